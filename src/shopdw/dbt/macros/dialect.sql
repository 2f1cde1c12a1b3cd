{#- Target-specific SQL lives here, behind adapter.dispatch. -#}

{#- ISO day of week: Monday = 1 .. Sunday = 7. -#}
{% macro iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'shopdw')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expr) -%}
    cast(extract(isodow from {{ date_expr }}) as integer)
{%- endmacro %}

{% macro redshift__iso_day_of_week(date_expr) -%}
    {#- Redshift has no isodow: dow is Sunday = 0 -#}
    cast(case when date_part(dow, {{ date_expr }}) = 0 then 7 else date_part(dow, {{ date_expr }}) end as integer)
{%- endmacro %}

{#- ISO week number of the year. -#}
{% macro iso_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_week', 'shopdw')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_week(date_expr) -%}
    cast(extract(week from {{ date_expr }}) as integer)
{%- endmacro %}

{% macro redshift__iso_week(date_expr) -%}
    cast(date_part(week, {{ date_expr }}) as integer)
{%- endmacro %}

{#- Integer date part (year, month, quarter, day). -#}
{% macro date_part_int(part, date_expr) -%}
    {{ return(adapter.dispatch('date_part_int', 'shopdw')(part, date_expr)) }}
{%- endmacro %}

{% macro default__date_part_int(part, date_expr) -%}
    cast(extract({{ part }} from {{ date_expr }}) as integer)
{%- endmacro %}

{% macro redshift__date_part_int(part, date_expr) -%}
    cast(date_part({{ part }}, {{ date_expr }}) as integer)
{%- endmacro %}

{#- Whole days from one date/timestamp to another (calendar days). -#}
{% macro days_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('days_between', 'shopdw')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__days_between(start_expr, end_expr) -%}
    (cast({{ end_expr }} as date) - cast({{ start_expr }} as date))
{%- endmacro %}

{% macro redshift__days_between(start_expr, end_expr) -%}
    datediff(day, cast({{ start_expr }} as date), cast({{ end_expr }} as date))
{%- endmacro %}

{#- A date plus a whole number of days, as a date. -#}
{% macro add_days(date_expr, days_expr) -%}
    {{ return(adapter.dispatch('add_days', 'shopdw')(date_expr, days_expr)) }}
{%- endmacro %}

{% macro default__add_days(date_expr, days_expr) -%}
    cast(cast({{ date_expr }} as date) + cast({{ days_expr }} as integer) as date)
{%- endmacro %}

{% macro redshift__add_days(date_expr, days_expr) -%}
    cast(dateadd(day, cast({{ days_expr }} as integer), cast({{ date_expr }} as date)) as date)
{%- endmacro %}

{#- Money: numeric(14,2). -#}
{% macro money(expr) -%}
    cast({{ expr }} as numeric(14, 2))
{%- endmacro %}

{#- A share (0..1) with 4 decimals; null when the denominator is 0. -#}
{% macro ratio(num, den) -%}
    cast(case when {{ den }} = 0 then null else cast({{ num }} as numeric(18, 6)) / {{ den }} end as numeric(10, 4))
{%- endmacro %}
