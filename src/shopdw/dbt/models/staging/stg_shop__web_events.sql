with latest as (
    {{ shopdw.latest_versions(source('raw', 'web_events'), ['event_id'],
        ['event_id', 'session_id', 'customer_unique_id', 'event_type', 'product_id', 'order_id',
         'event_timestamp', 'device_type', 'traffic_source']) }}
),

final as (
    select
        event_id,
        session_id,
        customer_unique_id,
        lower(trim(event_type)) as event_type,
        product_id,
        order_id,
        cast(event_timestamp as {{ dbt.type_timestamp() }}) as event_at,
        device_type,
        traffic_source,
        _loaded_at
    from latest
)

select * from final
