{#- Fails on every row where the expression is not true (dbt_utils.expression_is_true without the package). -#}
{% test expression_is_true(model, expression, where_clause=none, column_name=none) %}
select *
from {{ model }}
where not ({{ expression }})
{% if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}
