{#- The staging SQL of the entities the facts read, one macro each, so the staging view and an
    incremental fact share one definition. `where` filters the raw rows *before* the "latest
    version per key" window (see latest_versions): an incremental fact passes its touched keys,
    so it ranks only the versions of those keys instead of every raw version. Plain selects (no
    WITH), so they nest as a subquery on every target. -#}

{% macro stg_orders(where=none) -%}
    select
        order_id,
        customer_id,
        lower(trim(order_status)) as order_status,
        cast(order_purchase_timestamp as {{ dbt.type_timestamp() }}) as purchased_at,
        cast(order_approved_at as {{ dbt.type_timestamp() }}) as approved_at,
        cast(order_delivered_carrier_date as {{ dbt.type_timestamp() }}) as delivered_to_carrier_at,
        cast(order_delivered_customer_date as {{ dbt.type_timestamp() }}) as delivered_at,
        cast(order_estimated_delivery_date as {{ dbt.type_timestamp() }}) as estimated_delivery_at,
        {{ shopdw.change_ts('updated_at') }} as updated_at,
        _loaded_at
    from (
        {{ shopdw.latest_versions(source('raw', 'orders'), ['order_id'],
            ['order_id', 'customer_id', 'order_status', 'order_purchase_timestamp', 'order_approved_at',
             'order_delivered_carrier_date', 'order_delivered_customer_date', 'order_estimated_delivery_date',
             'updated_at'],
            change_col='updated_at', where=where) }}
    ) as latest
{%- endmacro %}

{% macro stg_order_items(where=none) -%}
    select
        order_id,
        cast(order_item_id as integer) as order_item_id,
        product_id,
        seller_id,
        cast(shipping_limit_date as {{ dbt.type_timestamp() }}) as shipping_limit_at,
        {{ shopdw.money('price') }} as price,
        {{ shopdw.money('freight_value') }} as freight_value,
        _loaded_at
    from (
        {{ shopdw.latest_versions(source('raw', 'order_items'), ['order_id', 'order_item_id'],
            ['order_id', 'order_item_id', 'product_id', 'seller_id', 'shipping_limit_date', 'price', 'freight_value'],
            where=where, few_versions=true) }}
    ) as latest
{%- endmacro %}

{% macro stg_order_payments(where=none) -%}
    select
        order_id,
        cast(payment_sequential as integer) as payment_sequential,
        coalesce(lower(trim(payment_type)), 'not_defined') as payment_type,
        cast(payment_installments as integer) as payment_installments,
        {{ shopdw.money('payment_value') }} as payment_value,
        _loaded_at
    from (
        {{ shopdw.latest_versions(source('raw', 'order_payments'), ['order_id', 'payment_sequential'],
            ['order_id', 'payment_sequential', 'payment_type', 'payment_installments', 'payment_value'],
            where=where, few_versions=true) }}
    ) as latest
{%- endmacro %}

{#- Olist reuses a review_id across orders: the key is (review_id, order_id). -#}
{% macro stg_order_reviews(where=none) -%}
    select
        review_id,
        order_id,
        cast(review_score as integer) as review_score,
        nullif(trim(review_comment_title), '') as review_comment_title,
        nullif(trim(review_comment_message), '') as review_comment_message,
        cast(review_creation_date as {{ dbt.type_timestamp() }}) as review_created_at,
        cast(review_answer_timestamp as {{ dbt.type_timestamp() }}) as review_answered_at,
        _loaded_at
    from (
        {{ shopdw.latest_versions(source('raw', 'order_reviews'), ['review_id', 'order_id'],
            ['review_id', 'order_id', 'review_score', 'review_comment_title', 'review_comment_message',
             'review_creation_date', 'review_answer_timestamp'],
            change_col='review_answer_timestamp', where=where, few_versions=true) }}
    ) as latest
{%- endmacro %}

{% macro stg_web_events(where=none) -%}
    select
        event_id,
        session_id,
        customer_unique_id,
        lower(trim(event_type)) as event_type,
        product_id,
        order_id,
        cast(event_timestamp as {{ dbt.type_timestamp() }}) as event_at,
        device_type,
        traffic_source,
        _loaded_at
    from (
        {{ shopdw.latest_versions(source('raw', 'web_events'), ['event_id'],
            ['event_id', 'session_id', 'customer_unique_id', 'event_type', 'product_id', 'order_id',
             'event_timestamp', 'device_type', 'traffic_source'],
            where=where, recent=true, few_versions=true) }}
    ) as latest
{%- endmacro %}
