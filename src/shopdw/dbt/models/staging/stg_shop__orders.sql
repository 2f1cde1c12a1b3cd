{#- The newest version of each order (SQL in macros/staging.sql). A table kept up to date
    incrementally, not a view like the other staging models: orders have a raw row per status
    change (~4.4M raw rows at 1M orders), and four facts and the staging tests read the newest
    versions. As a view each of them ranked every raw version again (3.2 s each at 1M orders,
    seven times in a full build); an incremental build re-ranks only the orders with a raw row
    loaded since the newest _loaded_at this table holds (every version of each), and the facts
    read those rows from here. -#}
{{ config(materialized='incremental', unique_key='order_id', incremental_strategy='delete+insert',
          on_schema_change='fail', dist='order_id') }}

{% if is_incremental() %}
{{ shopdw.stg_orders(where='order_id in (' ~ shopdw.loaded_keys('orders', 'order_id') ~ ')') }}
{% else %}
{{ shopdw.stg_orders() }}
{% endif %}
