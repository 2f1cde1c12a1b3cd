{{ config(unique_key=['review_id', 'order_id'], dist='order_id', sort=['review_created_at']) }}

with
{% if is_incremental() %}
touched as (
    {{ shopdw.touched_order_ids(['orders', 'order_reviews']) }}
),

{#- the touched orders only: their newest versions from int_orders_current (an incremental
    table, built before this model), the other entities' staging SQL over their raw versions (the filter
    sits below the ranking) -#}
reviews as (
    {{ shopdw.stg_order_reviews(where='order_id in (select order_id from touched)') }}
),

orders as (
    select * from {{ ref('int_orders_current') }} where order_id in (select order_id from touched)
),
{% else %}

reviews as (
    select * from {{ ref('stg_shop__order_reviews') }}
),

orders as (
    select * from {{ ref('int_orders_current') }}
),
{% endif %}

final as (
    select
        md5(reviews.review_id || '-' || reviews.order_id) as review_sk,
        reviews.review_id,
        reviews.order_id,
        orders.customer_id,
        cast(orders.purchased_at as date) as order_date,
        reviews.review_score,
        reviews.review_comment_title is not null or reviews.review_comment_message is not null as has_comment,
        reviews.review_created_at,
        reviews.review_answered_at,
        case when orders._loaded_at > reviews._loaded_at then orders._loaded_at else reviews._loaded_at end as _loaded_at
    from reviews
    inner join orders on orders.order_id = reviews.order_id
)

select * from final
