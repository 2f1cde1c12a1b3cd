{#- City names with and without accents compare equal: lower case, accents removed, spaces trimmed. -#}
{% macro normalize_city(col) -%}
    nullif(trim(lower(translate({{ col }},
        'áàâãäåéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÅÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ',
        'aaaaaaeeeeiiiiooooouuuucnaaaaaaeeeeiiiiooooouuuucn'))), '')
{%- endmacro %}

{% macro normalize_state(col) -%}
    nullif(upper(trim({{ col }})), '')
{%- endmacro %}

{#- Zip prefixes are 5 characters: left-padded with zeros (CSV readers drop them). -#}
{% macro normalize_zip(col) -%}
    case when {{ col }} is null or trim({{ col }}) = '' then null
         else lpad(trim({{ col }}), 5, '0') end
{%- endmacro %}

{#- Hash of a row's attributes, null-safe: equal attributes, equal hash (per target). -#}
{% macro row_hash(cols) -%}
    md5(
    {%- for c in cols %}
        coalesce(cast({{ c }} as {{ dbt.type_string() }}), '~')
        {%- if not loop.last %} || '|' || {% endif -%}
    {%- endfor %}
    )
{%- endmacro %}

{#- Brazilian macro-region of a state code (IBGE). -#}
{% macro state_region(col) -%}
    case
        when {{ col }} in ('AC', 'AM', 'AP', 'PA', 'RO', 'RR', 'TO') then 'Norte'
        when {{ col }} in ('AL', 'BA', 'CE', 'MA', 'PB', 'PE', 'PI', 'RN', 'SE') then 'Nordeste'
        when {{ col }} in ('DF', 'GO', 'MS', 'MT') then 'Centro-Oeste'
        when {{ col }} in ('ES', 'MG', 'RJ', 'SP') then 'Sudeste'
        when {{ col }} in ('PR', 'RS', 'SC') then 'Sul'
    end
{%- endmacro %}
