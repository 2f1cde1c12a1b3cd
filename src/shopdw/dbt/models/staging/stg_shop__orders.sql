{#- The newest version of each order (SQL in macros/staging.sql, shared with the incremental facts). -#}
{{ shopdw.stg_orders() }}
