{#- RFM scores (1-5) and segment per person.
    Recency and monetary: quintiles of the rank among buyers (ties share a score; 5 = most
    recent / highest lifetime value). Frequency: fixed bands of the order count (1, 2, 3, 4-5,
    6+), because most shoppers buy once and quintiles of ties would be arbitrary.
    People without a revenue order score 1/1/1 and are 'lost'.
    Depends on every person (the ranks, and the days since the last order relative to the
    newest order date), so it cannot be incremental; a view over int_customer_metrics' narrow
    columns, computed once per build where customer_360 (a table) reads it. As a table it cost a
    1M-row write and a node of its own on the incremental build's critical path (~0.4 s at 1M
    orders); as a view its data tests (full builds only) each compute the ranks (~0.4 s). -#}
{{ config(materialized='view') }}
with newest_order_date as (
    select max(order_date) as newest_day from {{ ref('fct_orders') }}
),

metrics as (
    select
        customer_unique_id,
        orders,
        lifetime_value,
        {{ shopdw.days_between('last_order_at', 'newest_order_date.newest_day') }} as days_since_last_order
    from {{ ref('int_customer_metrics') }}
    cross join newest_order_date
),

buyers_base as (
    select
        customer_unique_id,
        orders,
        days_since_last_order,
        lifetime_value
    from metrics
    where orders > 0
),

{#- rank() over all buyers, computed per distinct value (a few hundred days, some 70k lifetime
    values at 1M orders) and joined back: 1 + the buyers strictly before the value. Two sorts of
    ~1M rows cost about twice as much (customer_360 at 1M orders: 0.65-0.79 -> 0.39-0.46 s). -#}
recency_ranks as (
    {{ shopdw.rank_per_value('buyers_base', 'days_since_last_order', 'desc') }}
),

monetary_ranks as (
    {{ shopdw.rank_per_value('buyers_base', 'lifetime_value', 'asc') }}
),

buyer_count as (
    select count(*) as buyer_count from buyers_base
),

buyers as (
    select
        buyers_base.customer_unique_id,
        buyers_base.orders,
        recency_ranks.value_rank as recency_rank,
        monetary_ranks.value_rank as monetary_rank,
        buyer_count.buyer_count
    from buyers_base
    inner join recency_ranks on recency_ranks.days_since_last_order = buyers_base.days_since_last_order
    inner join monetary_ranks on monetary_ranks.lifetime_value = buyers_base.lifetime_value
    cross join buyer_count
),

scores as (
    select
        metrics.customer_unique_id,
        cast(case when buyers.customer_unique_id is null then 1
            else 1 + floor(5.0 * (buyers.recency_rank - 1) / buyers.buyer_count) end as integer) as recency_score,
        cast(case
            when metrics.orders >= 6 then 5
            when metrics.orders >= 4 then 4
            when metrics.orders = 3 then 3
            when metrics.orders = 2 then 2
            else 1
        end as integer) as frequency_score,
        cast(case when buyers.customer_unique_id is null then 1
            else 1 + floor(5.0 * (buyers.monetary_rank - 1) / buyers.buyer_count) end as integer) as monetary_score,
        metrics.orders,
        metrics.days_since_last_order
    from metrics
    left join buyers on buyers.customer_unique_id = metrics.customer_unique_id
),

final as (
    select
        customer_unique_id,
        days_since_last_order,
        recency_score,
        frequency_score,
        monetary_score,
        case
            when orders = 0 then 'lost'
            when recency_score >= 4 and frequency_score >= 2 and monetary_score >= 4 then 'champions'
            when recency_score >= 3 and frequency_score >= 2 then 'loyal'
            when recency_score = 5 and frequency_score = 1 then 'new'
            when recency_score = 4 or (recency_score = 3 and monetary_score >= 3) then 'potential_loyalist'
            when recency_score <= 2 and (frequency_score >= 2 or monetary_score >= 4) then 'at_risk'
            when recency_score = 1 then 'lost'
            else 'hibernating'
        end as rfm_segment
    from scores
)

select * from final
