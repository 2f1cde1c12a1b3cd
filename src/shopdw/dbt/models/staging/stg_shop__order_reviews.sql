{#- Olist reuses a review_id across orders: the key is (review_id, order_id). -#}
with latest as (
    {{ shopdw.latest_versions(source('raw', 'order_reviews'), ['review_id', 'order_id'],
        ['review_id', 'order_id', 'review_score', 'review_comment_title', 'review_comment_message',
         'review_creation_date', 'review_answer_timestamp'],
        change_col='review_answer_timestamp') }}
),

final as (
    select
        review_id,
        order_id,
        cast(review_score as integer) as review_score,
        nullif(trim(review_comment_title), '') as review_comment_title,
        nullif(trim(review_comment_message), '') as review_comment_message,
        cast(review_creation_date as {{ dbt.type_timestamp() }}) as review_created_at,
        cast(review_answer_timestamp as {{ dbt.type_timestamp() }}) as review_answered_at,
        _loaded_at
    from latest
)

select * from final
