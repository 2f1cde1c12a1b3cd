{#- The order in which versions of one business key happened: the change timestamp (updated_at),
    falling back to the ingest date when it is null, then batch and file order. -#}
{% macro change_ts(change_col) -%}
    {%- if change_col -%}
        coalesce({{ change_col }}, cast(_ingest_date as {{ dbt.type_timestamp() }}))
    {%- else -%}
        cast(_ingest_date as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}

{#- The newest version of each business key in a raw table (exact duplicates collapse with it).
    `where` filters raw rows first (facts pass the keys an incremental run touches); `recent`:
    the rows it keeps are among the newest of the table (recent_rows_filter). -#}
{% macro latest_versions(relation, key, columns, change_col=none, where=none, recent=false) -%}
    select {{ columns | join(', ') }}, _loaded_at, _batch_id, _ingest_date
    from (
        select
            *,
            row_number() over (
                partition by {{ key | join(', ') }}
                order by
                    {{ shopdw.change_ts(change_col) }} desc,
                    _ingest_date desc,
                    _batch_id desc,
                    _source_file desc,
                    {{ shopdw.row_hash(columns) }} desc
            ) as _version_rank
        from {{ relation }}
        {% if where %}where {{ shopdw.recent_rows_filter(relation, where) if recent else where }}{% endif %}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{#- SCD Type 2 history of one business key, rebuilt from every version in raw (so a rebuild
    reproduces history exactly and a late change lands where it belongs in time; an incremental
    run passes only the touched keys' rows, every version of each):
    - versions are ordered by their change timestamp (see change_ts);
    - of several versions with the same timestamp the last one (batch/file order) wins;
    - consecutive versions with identical attributes collapse into the first;
    - valid_to is the next version's valid_from ('9999-12-31' for the current one);
    - _loaded_at is the newest _loaded_at among the key's raw rows (all its versions carry it:
      the incremental watermark, and what an incremental run's tests look at). -#}
{% macro scd2_versions(relation, key, attrs, change_col) -%}
    with source_rows as (
        select
            {{ key }} as business_key,
            {% for a in attrs %}{{ a }},
            {% endfor -%}
            {{ shopdw.change_ts(change_col) }} as changed_at,
            _ingest_date,
            _batch_id,
            _source_file,
            max(_loaded_at) over (partition by {{ key }}) as key_loaded_at,
            {{ shopdw.row_hash(attrs) }} as attr_hash
        from {{ relation }}
        where {{ key }} is not null
    ),

    one_per_timestamp as (
        select *
        from (
            select
                *,
                row_number() over (
                    partition by business_key, changed_at
                    order by _ingest_date desc, _batch_id desc, _source_file desc, attr_hash desc
                ) as ts_rank
            from source_rows
        ) as r
        where ts_rank = 1
    ),

    with_previous as (
        select
            *,
            lag(attr_hash) over (partition by business_key order by changed_at) as previous_hash
        from one_per_timestamp
    ),

    changes as (
        select * from with_previous
        where previous_hash is null or previous_hash <> attr_hash
    ),

    final as (
        select
            business_key as {{ key }},
            {% for a in attrs %}{{ a }},
            {% endfor -%}
            changed_at as valid_from,
            coalesce(
                lead(changed_at) over (partition by business_key order by changed_at),
                cast('9999-12-31 00:00:00' as {{ dbt.type_timestamp() }})
            ) as valid_to,
            case when lead(changed_at) over (partition by business_key order by changed_at) is null
                then true else false end as is_current,
            cast(row_number() over (partition by business_key order by changed_at) as integer) as version_number,
            key_loaded_at as _loaded_at
        from changes
    )

    select * from final
{%- endmacro %}

{#- Join condition: the dimension version valid at a point in time. The first version also
    covers everything before it (an order placed before its customer's first recorded change). -#}
{% macro valid_at(dim_alias, ts) -%}
    ({{ dim_alias }}.version_number = 1 or {{ dim_alias }}.valid_from <= {{ ts }})
    and {{ ts }} < {{ dim_alias }}.valid_to
{%- endmacro %}
