{#- One row per (order_date, customer_state, product_category) over revenue orders.
    The state is the customer's at purchase; 'unknown' when missing. -#}
with order_items as (
    select * from {{ ref('fct_order_items') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

customers as (
    select * from {{ ref('dim_customer') }}
),

lines as (
    select
        order_items.order_date,
        coalesce(customers.customer_state, 'unknown') as customer_state,
        coalesce(order_items.product_category, 'unknown') as product_category,
        order_items.order_id,
        order_items.price,
        order_items.freight_value
    from order_items
    inner join orders on orders.order_id = order_items.order_id and orders.is_revenue
    left join customers on customers.customer_sk = order_items.customer_sk
),

final as (
    select
        order_date,
        customer_state,
        product_category,
        {{ shopdw.money('sum(price)') }} as revenue,
        {{ shopdw.money('sum(freight_value)') }} as freight_value,
        cast(count(distinct order_id) as integer) as orders,
        cast(count(*) as integer) as items
    from lines
    group by order_date, customer_state, product_category
)

select * from final
