{#- One row per (order_date, customer_state, product_category) over revenue orders.
    The state is the customer's at purchase; 'unknown' when missing. Aggregated per order first
    (an order's items in one category), then per group: orders = the orders with an item in the
    group; review_score_sum / reviewed_orders = the review scores of those orders, each once, so
    mart_category_performance adds up to each category's orders and mean review score (an order
    has one date and one state, so it is in one group per category). -#}
with lines as (
    {{ shopdw.sales_lines() }}
),

order_groups as (
    select
        order_date,
        customer_state,
        product_category,
        order_id,
        sum(price) as revenue,
        sum(freight_value) as freight_value,
        count(*) as items,
        max(review_score) as review_score
    from lines
    group by order_date, customer_state, product_category, order_id
),

final as (
    select
        order_date,
        customer_state,
        product_category,
        {{ shopdw.money('sum(revenue)') }} as revenue,
        {{ shopdw.money('sum(freight_value)') }} as freight_value,
        cast(count(*) as integer) as orders,
        cast(sum(items) as integer) as items,
        {{ shopdw.money('sum(review_score)') }} as review_score_sum,
        cast(count(review_score) as integer) as reviewed_orders
    from order_groups
    group by order_date, customer_state, product_category
)

select * from final
