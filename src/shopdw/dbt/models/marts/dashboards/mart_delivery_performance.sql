{#- One row per (customer_state, purchase_month) with at least one delivered revenue order.
    late = delivered after the estimated delivery date; on time = delivered and not late. -#}
with orders as (
    select * from {{ ref('fct_orders') }}
),

delivered as (
    select
        coalesce(orders.customer_state, 'unknown') as customer_state,
        cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date) as purchase_month,
        orders.is_late,
        orders.delivery_days
    from orders
    where orders.is_revenue and orders.is_delivered
),

final as (
    select
        customer_state,
        purchase_month,
        cast(count(*) as integer) as delivered_orders,
        cast(sum(case when is_late then 0 else 1 end) as integer) as on_time_orders,
        cast(sum(case when is_late then 1 else 0 end) as integer) as late_orders,
        {{ shopdw.ratio('sum(case when is_late then 1 else 0 end)', 'count(*)') }} as late_rate,
        cast(avg(cast(delivery_days as numeric(10, 4))) as numeric(8, 2)) as avg_delivery_days
    from delivered
    group by customer_state, purchase_month
)

select * from final
