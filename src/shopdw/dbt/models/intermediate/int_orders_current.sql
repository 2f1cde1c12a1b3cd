{#- The newest version of each order: the rows of stg_shop__orders (the same SQL, macros/staging.sql),
    kept as a table the facts read. Orders have a raw row per status change (~4.4M raw rows at 1M
    orders): when each of the four facts that need them ranked the raw versions itself, a full
    build ranked them four times (~3 s each at 1M orders). An incremental build re-ranks the
    orders with a raw row loaded since the newest _loaded_at this table holds (every version of
    each) and replaces their rows; the facts then read their touched orders from here. -#}
{{ config(materialized='incremental', unique_key='order_id', incremental_strategy='delete+insert',
          on_schema_change='fail', dist='order_id') }}

{% if is_incremental() %}
{{ shopdw.stg_orders(where='order_id in (' ~ shopdw.loaded_keys('orders', 'order_id') ~ ')') }}
{% else %}
{{ shopdw.stg_orders() }}
{% endif %}
