{#- The newest version of each payment (SQL in macros/staging.sql, shared with the incremental facts). -#}
{{ shopdw.stg_order_payments() }}
