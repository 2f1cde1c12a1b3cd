{#- One row per (order_date, customer_state, product_category) over revenue orders.
    The state is the customer's at purchase; 'unknown' when missing. -#}
with lines as (
    {{ shopdw.sales_lines() }}
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
