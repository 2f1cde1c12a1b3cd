{#- Fails on every row with a null in any of the columns: dbt's not_null, for several columns in
    one query. The marts (rebuilt or updated on every build) group their required columns in one
    test per model: each data test is a dbt node, and dbt's own work per node (~25 ms of Python:
    compiling, context, events, result) was a large part of a one-day incremental build, whose
    queries each read only the rows the run wrote. -#}
{% test not_null_columns(model, columns) %}
select *
from {{ model }}
where {% for c in columns %}{{ c }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
