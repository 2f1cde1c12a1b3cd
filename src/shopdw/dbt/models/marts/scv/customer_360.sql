{#- The Single Customer View: one row per person (customer_unique_id). -#}
with customers as (
    select * from {{ ref('dim_customer') }}
),

metrics as (
    select * from {{ ref('int_customer_metrics') }}
),

rfm as (
    select * from {{ ref('int_customer_rfm') }}
),

web_events as (
    select * from {{ ref('fct_web_events') }}
),

current_location as (
    select
        customer_unique_id,
        customer_zip_code_prefix,
        customer_city,
        customer_state,
        row_number() over (
            partition by customer_unique_id order by valid_from desc, customer_id desc
        ) as location_rank
    from customers
    where is_current
),

sessions as (
    select
        customer_unique_id,
        count(distinct session_id) as web_sessions,
        count(distinct case when event_type = 'purchase' then session_id end) as converted_sessions
    from web_events
    where customer_unique_id is not null
    group by customer_unique_id
),

final as (
    select
        metrics.customer_unique_id,
        current_location.customer_zip_code_prefix,
        current_location.customer_city,
        current_location.customer_state,
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
        metrics.days_since_last_order,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        rfm.rfm_segment,
        cast(coalesce(sessions.web_sessions, 0) as integer) as web_sessions,
        cast(coalesce(sessions.converted_sessions, 0) as integer) as converted_sessions,
        {{ shopdw.ratio('sessions.converted_sessions', 'sessions.web_sessions') }} as conversion_rate
    from metrics
    inner join rfm on rfm.customer_unique_id = metrics.customer_unique_id
    left join current_location
        on current_location.customer_unique_id = metrics.customer_unique_id and current_location.location_rank = 1
    left join sessions on sessions.customer_unique_id = metrics.customer_unique_id
)

select * from final
