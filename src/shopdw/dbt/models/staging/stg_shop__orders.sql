with latest as (
    {{ shopdw.latest_versions(source('raw', 'orders'), ['order_id'],
        ['order_id', 'customer_id', 'order_status', 'order_purchase_timestamp', 'order_approved_at',
         'order_delivered_carrier_date', 'order_delivered_customer_date', 'order_estimated_delivery_date',
         'updated_at'],
        change_col='updated_at') }}
),

final as (
    select
        order_id,
        customer_id,
        lower(trim(order_status)) as order_status,
        cast(order_purchase_timestamp as {{ dbt.type_timestamp() }}) as purchased_at,
        cast(order_approved_at as {{ dbt.type_timestamp() }}) as approved_at,
        cast(order_delivered_carrier_date as {{ dbt.type_timestamp() }}) as delivered_to_carrier_at,
        cast(order_delivered_customer_date as {{ dbt.type_timestamp() }}) as delivered_at,
        cast(order_estimated_delivery_date as {{ dbt.type_timestamp() }}) as estimated_delivery_at,
        {{ shopdw.change_ts('updated_at') }} as updated_at,
        _loaded_at
    from latest
)

select * from final
