{#- One row per person (customer_unique_id): what they bought, paid and thought, over their
    orders that count as revenue (status not canceled/unavailable). -#}
with customers as (
    select * from {{ ref('dim_customer') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

order_items as (
    select * from {{ ref('fct_order_items') }}
),

payments as (
    select * from {{ ref('fct_payments') }}
),

reviews as (
    select * from {{ ref('fct_reviews') }}
),

people as (
    select distinct customer_unique_id from customers
),

revenue_orders as (
    select * from orders where is_revenue
),

newest_order_date as (
    select max(order_date) as newest_day from orders
),

order_totals as (
    select
        customer_unique_id,
        min(purchased_at) as first_order_at,
        max(purchased_at) as last_order_at,
        count(*) as orders,
        sum(item_count) as items,
        sum(items_value) as lifetime_value,
        sum(freight_value) as freight_paid,
        sum(case when is_late then 1 else 0 end) as late_orders,
        sum(case when is_late is not null then 1 else 0 end) as delivered_with_estimate
    from revenue_orders
    group by customer_unique_id
),

category_counts as (
    select
        revenue_orders.customer_unique_id,
        order_items.product_category,
        row_number() over (
            partition by revenue_orders.customer_unique_id
            order by count(*) desc, sum(order_items.price) desc, order_items.product_category
        ) as category_rank
    from order_items
    inner join revenue_orders on revenue_orders.order_id = order_items.order_id
    group by revenue_orders.customer_unique_id, order_items.product_category
),

payment_types as (
    select
        revenue_orders.customer_unique_id,
        payments.payment_type,
        row_number() over (
            partition by revenue_orders.customer_unique_id
            order by count(*) desc, sum(payments.payment_value) desc, payments.payment_type
        ) as type_rank
    from payments
    inner join revenue_orders on revenue_orders.order_id = payments.order_id
    group by revenue_orders.customer_unique_id, payments.payment_type
),

installments as (
    select
        revenue_orders.customer_unique_id,
        avg(cast(payments.payment_installments as numeric(10, 4))) as avg_installments
    from payments
    inner join revenue_orders on revenue_orders.order_id = payments.order_id
    group by revenue_orders.customer_unique_id
),

review_scores as (
    select
        revenue_orders.customer_unique_id,
        avg(cast(reviews.review_score as numeric(10, 4))) as avg_review_score
    from reviews
    inner join revenue_orders on revenue_orders.order_id = reviews.order_id
    group by revenue_orders.customer_unique_id
),

final as (
    select
        people.customer_unique_id,
        order_totals.first_order_at,
        order_totals.last_order_at,
        cast(coalesce(order_totals.orders, 0) as integer) as orders,
        cast(coalesce(order_totals.items, 0) as integer) as items,
        {{ shopdw.money('coalesce(order_totals.lifetime_value, 0)') }} as lifetime_value,
        {{ shopdw.money('case when order_totals.orders > 0 then order_totals.lifetime_value / order_totals.orders end') }}
            as avg_order_value,
        {{ shopdw.money('coalesce(order_totals.freight_paid, 0)') }} as freight_paid,
        category_counts.product_category as favourite_category,
        payment_types.payment_type as preferred_payment_type,
        cast(installments.avg_installments as numeric(6, 2)) as avg_installments,
        cast(review_scores.avg_review_score as numeric(4, 2)) as avg_review_score,
        {{ shopdw.ratio('order_totals.late_orders', 'order_totals.delivered_with_estimate') }} as late_delivery_rate,
        {{ shopdw.days_between('order_totals.last_order_at', 'newest_order_date.newest_day') }} as days_since_last_order
    from people
    cross join newest_order_date
    left join order_totals on order_totals.customer_unique_id = people.customer_unique_id
    left join category_counts
        on category_counts.customer_unique_id = people.customer_unique_id and category_counts.category_rank = 1
    left join payment_types
        on payment_types.customer_unique_id = people.customer_unique_id and payment_types.type_rank = 1
    left join installments on installments.customer_unique_id = people.customer_unique_id
    left join review_scores on review_scores.customer_unique_id = people.customer_unique_id
)

select * from final
