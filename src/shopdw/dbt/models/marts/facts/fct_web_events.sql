{{ config(unique_key='event_id', dist='session_id', sort=['event_at']) }}

with
{% if is_incremental() %}
{#- every raw version of the events loaded since the watermark, ranked (the filter sits below the ranking) -#}
events as (
    {{ shopdw.stg_web_events(where='event_id in (' ~ shopdw.loaded_keys('web_events', 'event_id') ~ ')') }}
),
{% else %}
events as (
    select * from {{ ref('stg_shop__web_events') }}
),
{% endif %}

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
