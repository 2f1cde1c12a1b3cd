{#- The newest version of each review (SQL in macros/staging.sql, shared with the incremental facts). -#}
{{ shopdw.stg_order_reviews() }}
