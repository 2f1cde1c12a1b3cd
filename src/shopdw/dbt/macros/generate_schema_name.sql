{#- Models land in exactly the folder's schema (staging, intermediate, analytics), whatever the
    profile's base schema; `schema_prefix` (settings.redshift_schema_prefix) is prepended. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = var('schema_prefix', '') -%}
    {%- if custom_schema_name is none -%}
        {{ prefix ~ target.schema }}
    {%- else -%}
        {{ prefix ~ (custom_schema_name | trim) }}
    {%- endif -%}
{%- endmacro %}
