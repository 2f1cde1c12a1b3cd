{#- mart_daily_orders and mart_daily_sales describe the same sales: per (order_date,
    customer_state) they hold the same groups, the same revenue, freight and items, and the
    distinct order count lies between the largest category's count and the sum over
    categories (an order spanning two categories counts once, not twice). Fails on every
    (order_date, customer_state) where they disagree. -#}
with daily_orders as (
    select * from {{ ref('mart_daily_orders') }}
),

daily_sales as (
    select * from {{ ref('mart_daily_sales') }}
),

sales_by_state as (
    select
        order_date,
        customer_state,
        sum(revenue) as revenue,
        sum(freight_value) as freight_value,
        sum(items) as items,
        sum(orders) as category_orders,
        max(orders) as max_category_orders
    from daily_sales
    group by order_date, customer_state
),

compared as (
    select
        coalesce(daily_orders.order_date, sales_by_state.order_date) as order_date,
        coalesce(daily_orders.customer_state, sales_by_state.customer_state) as customer_state,
        daily_orders.orders,
        daily_orders.revenue,
        sales_by_state.revenue as sales_revenue,
        daily_orders.freight_value,
        sales_by_state.freight_value as sales_freight_value,
        daily_orders.items,
        sales_by_state.items as sales_items,
        sales_by_state.category_orders,
        sales_by_state.max_category_orders
    from daily_orders
    full outer join sales_by_state
        on
            daily_orders.order_date = sales_by_state.order_date
            and daily_orders.customer_state = sales_by_state.customer_state
),

final as (
    select * from compared
    where
        revenue is null
        or sales_revenue is null
        or revenue <> sales_revenue
        or freight_value <> sales_freight_value
        or items <> sales_items
        or orders > category_orders
        or orders < max_category_orders
)

select * from final
