{#- One row per (order_date, customer_state) over revenue orders: the order-level figures
    (orders, average order value) that mart_daily_sales cannot give, since an order with
    items in two categories sits in two of its rows. Same lines as mart_daily_sales, so
    revenue, freight and items add up to its figures per (order_date, customer_state). -#}
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
        cast(count(distinct order_id) as integer) as orders,
        {{ shopdw.money('sum(price)') }} as revenue,
        {{ shopdw.money('sum(freight_value)') }} as freight_value,
        cast(count(*) as integer) as items
    from lines
    group by order_date, customer_state
)

select * from final
