{#- One row per (order_date, customer_state) over revenue orders: the order-level figures
    (orders, average order value) that mart_daily_sales cannot give, since an order with
    items in two categories sits in two of its rows. Same lines as mart_daily_sales
    (macro sales_lines), so revenue, freight and items add up to its figures per
    (order_date, customer_state). -#}
with lines as (
    {{ shopdw.sales_lines() }}
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
