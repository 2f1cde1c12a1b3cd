{#- One row per product category over revenue orders. avg_review_score averages the review
    score of each order containing the category once. Added up from mart_daily_sales: an order
    has one date and one state, so it is in exactly one of its category's rows there (orders and
    reviewed orders add up without counting an order twice). -#}
with daily_sales as (
    select * from {{ ref('mart_daily_sales') }}
),

totals as (
    select
        product_category,
        sum(revenue) as revenue,
        sum(orders) as orders,
        sum(items) as items,
        sum(review_score_sum) as review_score_sum,
        sum(reviewed_orders) as reviewed_orders
    from daily_sales
    group by product_category
),

grand_total as (
    select sum(revenue) as all_revenue from totals
),

final as (
    select
        totals.product_category,
        {{ shopdw.money('totals.revenue') }} as revenue,
        cast(totals.orders as integer) as orders,
        cast(totals.items as integer) as items,
        {{ shopdw.money('totals.revenue / totals.items') }} as avg_item_price,
        cast(case when totals.reviewed_orders > 0
            then cast(totals.review_score_sum as numeric(18, 6)) / totals.reviewed_orders end as numeric(4, 2))
            as avg_review_score,
        {{ shopdw.ratio('totals.revenue', 'grand_total.all_revenue') }} as revenue_share
    from totals
    cross join grand_total
)

select * from final
