{#- One row per (order_date, customer_state) over revenue orders with at least one item: the
    order-level figures (orders, average order value) that mart_daily_sales cannot give, since an
    order with items in two categories sits in two of its rows. From fct_orders' per-order item
    totals (the same items fct_order_items holds), not from the items themselves; the singular
    test assert_mart_daily_orders_matches_daily_sales checks that revenue, freight and items add
    up to mart_daily_sales' per (order_date, customer_state). -#}
with orders as (
    select * from {{ ref('fct_orders') }}
    where is_revenue and item_count > 0
),

final as (
    select
        orders.order_date,
        coalesce(orders.customer_state, 'unknown') as customer_state,
        cast(count(*) as integer) as orders,
        {{ shopdw.money('sum(orders.items_value)') }} as revenue,
        {{ shopdw.money('sum(orders.freight_value)') }} as freight_value,
        cast(sum(orders.item_count) as integer) as items
    from orders
    group by orders.order_date, coalesce(orders.customer_state, 'unknown')
)

select * from final
