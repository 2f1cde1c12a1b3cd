{#- One row per product category over revenue orders. avg_review_score averages the review
    score of each order containing the category once. -#}
with order_items as (
    select * from {{ ref('fct_order_items') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

lines as (
    select
        coalesce(order_items.product_category, 'unknown') as product_category,
        order_items.order_id,
        order_items.price,
        orders.review_score
    from order_items
    inner join orders on orders.order_id = order_items.order_id and orders.is_revenue
),

category_orders as (
    select distinct product_category, order_id, review_score from lines
),

reviews as (
    select product_category, avg(cast(review_score as numeric(10, 4))) as avg_review_score
    from category_orders
    group by product_category
),

totals as (
    select
        product_category,
        sum(price) as revenue,
        count(distinct order_id) as orders,
        count(*) as items
    from lines
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
        cast(reviews.avg_review_score as numeric(4, 2)) as avg_review_score,
        {{ shopdw.ratio('totals.revenue', 'grand_total.all_revenue') }} as revenue_share
    from totals
    cross join grand_total
    left join reviews on reviews.product_category = totals.product_category
)

select * from final
