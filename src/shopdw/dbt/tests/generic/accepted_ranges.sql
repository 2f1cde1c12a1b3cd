{#- accepted_range for several columns in one query: fails on every row with a non-null value
    outside its column's [min_value, max_value] (either bound optional, both inclusive). `ranges`
    is a list of {column, min_value, max_value}. A model's derived figures (customer_360's
    scores and rates, the calendar's parts) are checked in one test per model: each data test is
    a dbt node, and dbt's own work per node is a large part of a one-day incremental build (see
    not_null_columns). Each failing row carries failed_columns: the columns out of range, so the
    failure still names them. The facts keep one accepted_range per column: those catch bad
    source rows, and the test's name says which column. -#}
{% test accepted_ranges(model, ranges) %}
{%- set rules = [] -%}
{%- for r in ranges -%}
    {%- set bounds = [] -%}
    {%- if r.get('min_value') is not none %}{% do bounds.append(r.column ~ ' < ' ~ r.min_value) %}{% endif -%}
    {%- if r.get('max_value') is not none %}{% do bounds.append(r.column ~ ' > ' ~ r.max_value) %}{% endif -%}
    {%- if not bounds -%}
        {{ exceptions.raise_compiler_error("accepted_ranges: no min_value or max_value for column " ~ r.column) }}
    {%- endif -%}
    {%- do rules.append((r.column, '(' ~ r.column ~ ' is not null and (' ~ (bounds | join(' or ')) ~ '))')) -%}
{%- endfor %}
select
    *,
    {%- for column, rule in rules %}
    case when {{ rule }} then '{{ column }} ' else '' end{% if not loop.last %} ||{% endif %}
    {%- endfor %} as failed_columns
from {{ model }}
where {% for column, rule in rules %}{{ rule }}{% if not loop.last %}
   or {% endif %}{% endfor %}
{% endtest %}
