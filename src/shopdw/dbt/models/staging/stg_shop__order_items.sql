{#- The newest version of each order item (SQL in macros/staging.sql, shared with the incremental facts). -#}
{{ shopdw.stg_order_items() }}
