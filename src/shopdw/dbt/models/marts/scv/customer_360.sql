{#- The Single Customer View: one row per person (customer_unique_id). A join of two per-person
    tables: int_customer_metrics (the person's own figures, location and web sessions; re-derived
    for the touched people only on an incremental run) and int_customer_rfm (what is relative to
    every person: days since the last order, RFM). -#}
with metrics as (
    select * from {{ ref('int_customer_metrics') }}
),

rfm as (
    select * from {{ ref('int_customer_rfm') }}
),

final as (
    select
        metrics.customer_unique_id,
        metrics.customer_zip_code_prefix,
        metrics.customer_city,
        metrics.customer_state,
        metrics.first_order_at,
        metrics.last_order_at,
        metrics.orders,
        metrics.items,
        metrics.lifetime_value,
        metrics.avg_order_value,
        metrics.freight_paid,
        metrics.favourite_category,
        metrics.preferred_payment_type,
        metrics.avg_installments,
        metrics.avg_review_score,
        metrics.late_delivery_rate,
        rfm.days_since_last_order,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        rfm.rfm_segment,
        metrics.web_sessions,
        metrics.converted_sessions,
        metrics.conversion_rate
    from metrics
    inner join rfm on rfm.customer_unique_id = metrics.customer_unique_id
)

select * from final
