{#- The oldest _loaded_at an incremental run re-reads: the newest one this model holds minus
    `lookback_days` (the beginning of time when the model is empty). -#}
{% macro incremental_since() -%}
    (
        select coalesce(
            {{ dbt.dateadd('day', -1 * var('lookback_days', 3) | int, 'max(_loaded_at)') }},
            cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
        )
        from {{ this }}
    )
{%- endmacro %}

{#- Order ids whose fact rows an incremental run must rewrite: every order that has a raw row
    (of the given entities) loaded since `incremental_since()`. Dimension changes count too:
    a late customer/product/seller version can change which version an order joins. -#}
{% macro touched_order_ids(entities) -%}
    {%- set parts = [] -%}
    {%- for e in entities -%}
        {%- if e in ('orders', 'order_items', 'order_payments', 'order_reviews') -%}
            {%- do parts.append("select order_id from " ~ source('raw', e) ~ " where _loaded_at > " ~ shopdw.incremental_since()) -%}
        {%- elif e == 'customers' -%}
            {%- do parts.append("select o.order_id from " ~ source('raw', 'orders') ~ " as o inner join " ~ source('raw', 'customers') ~ " as c on c.customer_id = o.customer_id where c._loaded_at > " ~ shopdw.incremental_since()) -%}
        {%- elif e in ('products', 'sellers') -%}
            {%- set k = 'product_id' if e == 'products' else 'seller_id' -%}
            {%- do parts.append("select i.order_id from " ~ source('raw', 'order_items') ~ " as i inner join " ~ source('raw', e) ~ " as d on d." ~ k ~ " = i." ~ k ~ " where d._loaded_at > " ~ shopdw.incremental_since()) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ parts | join('\n    union\n    ') }}
{%- endmacro %}
