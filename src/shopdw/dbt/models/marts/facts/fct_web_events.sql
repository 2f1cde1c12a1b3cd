{{ config(unique_key='event_id', dist='session_id', sort=['event_at']) }}

with events as (
    select * from {{ ref('stg_shop__web_events') }}
    {% if is_incremental() %}
    where event_id in (
        select event_id from {{ source('raw', 'web_events') }}
        where _loaded_at > {{ shopdw.incremental_since() }}
    )
    {% endif %}
),

final as (
    select
        event_id,
        session_id,
        customer_unique_id,
        event_type,
        product_id,
        order_id,
        event_at,
        cast(event_at as date) as event_date,
        device_type,
        traffic_source,
        _loaded_at
    from events
)

select * from final
