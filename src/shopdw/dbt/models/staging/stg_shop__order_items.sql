with latest as (
    {{ shopdw.latest_versions(source('raw', 'order_items'), ['order_id', 'order_item_id'],
        ['order_id', 'order_item_id', 'product_id', 'seller_id', 'shipping_limit_date', 'price', 'freight_value']) }}
),

final as (
    select
        order_id,
        cast(order_item_id as integer) as order_item_id,
        product_id,
        seller_id,
        cast(shipping_limit_date as {{ dbt.type_timestamp() }}) as shipping_limit_at,
        {{ shopdw.money('price') }} as price,
        {{ shopdw.money('freight_value') }} as freight_value,
        _loaded_at
    from latest
)

select * from final
