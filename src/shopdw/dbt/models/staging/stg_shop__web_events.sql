{#- The newest version of each web event (SQL in macros/staging.sql, shared with the incremental facts). -#}
{{ shopdw.stg_web_events() }}
