{{ config(unique_key=['order_id', 'order_item_id'], dist='order_id', sort=['order_date']) }}

with
{% if is_incremental() %}
touched as (
    {{ shopdw.touched_order_ids(['orders', 'order_items']) }}
    union
    {{ shopdw.orders_with_changed_dimensions(['customer', 'product', 'seller']) }}
),

{#- the touched orders only: their newest versions from int_orders_current (an incremental
    table, built before this model), the other entities' staging SQL over their raw versions (the filter
    sits below the ranking) -#}
items as (
    {{ shopdw.stg_order_items(where='order_id in (select order_id from touched)') }}
),

orders as (
    select * from {{ ref('int_orders_current') }} where order_id in (select order_id from touched)
),
{% else %}

items as (
    select * from {{ ref('stg_shop__order_items') }}
),

orders as (
    select * from {{ ref('int_orders_current') }}
),
{% endif %}

customers as (
    select * from {{ ref('dim_customer') }}
),

products as (
    select * from {{ ref('dim_product') }}
),

sellers as (
    select * from {{ ref('dim_seller') }}
),

final as (
    select
        md5(items.order_id || '-' || cast(items.order_item_id as {{ dbt.type_string() }})) as order_item_sk,
        items.order_id,
        items.order_item_id,
        customers.customer_sk,
        orders.customer_id,
        customers.customer_unique_id,
        customers.customer_state,
        products.product_sk,
        items.product_id,
        products.product_category,
        sellers.seller_sk,
        items.seller_id,
        cast(orders.purchased_at as date) as order_date,
        orders.purchased_at,
        orders.order_status,
        items.shipping_limit_at,
        items.price,
        items.freight_value,
        {{ shopdw.money('items.price + items.freight_value') }} as item_total,
        case when orders._loaded_at > items._loaded_at then orders._loaded_at else items._loaded_at end as _loaded_at
    from items
    inner join orders on orders.order_id = items.order_id
    left join customers
        on customers.customer_id = orders.customer_id
        and {{ shopdw.valid_at('customers', 'orders.purchased_at') }}
    left join products
        on products.product_id = items.product_id
        and {{ shopdw.valid_at('products', 'orders.purchased_at') }}
    left join sellers
        on sellers.seller_id = items.seller_id
        and {{ shopdw.valid_at('sellers', 'orders.purchased_at') }}
)

select * from final
