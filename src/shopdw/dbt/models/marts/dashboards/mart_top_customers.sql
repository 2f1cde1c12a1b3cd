{#- The 100 people with the highest lifetime value (ties by customer_unique_id). -#}
with customers as (
    select * from {{ ref('customer_360') }}
),

ranked as (
    select
        cast(row_number() over (order by lifetime_value desc, customer_unique_id) as integer) as rank,
        customer_unique_id,
        customer_city,
        customer_state,
        orders,
        lifetime_value,
        avg_order_value,
        avg_review_score,
        rfm_segment,
        last_order_at
    from customers
    where orders > 0
),

final as (
    select * from ranked where rank <= 100
)

select * from final
