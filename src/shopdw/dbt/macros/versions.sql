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
    the rows it keeps are among the newest of the table (recent_rows_filter). `few_versions`:
    most keys have one raw row (events, order lines): without `where`, only the keys that repeat
    are ranked (latest_versions_of_repeated_keys). -#}
{% macro latest_versions(relation, key, columns, change_col=none, where=none, recent=false, few_versions=false) -%}
    {%- if few_versions and not where -%}
        {{ shopdw.latest_versions_of_repeated_keys(relation, key, columns, change_col) }}
    {%- else -%}
        {%- set filter = (shopdw.recent_rows_filter(relation, where) if recent else where) if where else none -%}
        {{ adapter.dispatch('ranked_latest_versions', 'shopdw')(relation, key, columns, change_col, filter) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__ranked_latest_versions(relation, key, columns, change_col, filter) -%}
    select {{ columns | join(', ') }}, _loaded_at, _batch_id, _ingest_date
    from (
        select
            *,
            {{ shopdw.version_rank(key, columns, change_col) }} as _version_rank
        from {{ relation }}
        {% if filter %}where {{ filter }}{% endif %}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{#- DuckDB: the same rows as version_rank, with the row hash computed only where it decides: the
    raw rows that hold their key's newest version by change timestamp, ingest date, batch and file
    are found first, with how many they are per key (_version_peers); only a key with several (a
    tie inside one file, never in clean data) is settled by the row hash. Hashing every raw version
    (an md5 over its columns cast to text), as version_rank does, took raw orders at 1M orders
    (4.4M rows) 5.2-6.0 s. No CTE: through a materialized one DuckDB loses the columns'
    statistics, with which it answers a not_null test on a column raw never has null in without
    ranking anything. -#}
{% macro duckdb__ranked_latest_versions(relation, key, columns, change_col, filter) -%}
    select {{ columns | join(', ') }}, _loaded_at, _batch_id, _ingest_date
    from (
        select
            *,
            row_number() over (
                partition by {{ key | join(', ') }}
                order by case when _version_peers > 1 then {{ shopdw.row_hash(columns) }} end desc nulls last
            ) as _tie_rank
        from (
            {%- if filter %}
            {{ shopdw.duckdb_newest_rows_sorted(relation, key, change_col, filter) }}
            {%- else %}
            {{ shopdw.duckdb_newest_rows_by_version_key(relation, key, change_col) }}
            {%- endif %}
        ) as newest_rows
    ) as first_ranked
    {# the same rows as "_tie_rank = 1" (a key's only newest row ranks 1); written so, DuckDB
        evaluates the window instead of rewriting the filter into an arg_max of every whole row per
        key: raw orders at 1M orders 4.3 -> 3.1 s, stg_shop__customers 4.1 -> 2.5 s #}
    where _version_peers = 1 or _tie_rank = 1
{%- endmacro %}

{#- The rows of a few keys (an incremental run's): ranked in a window by change timestamp, ingest
    date, batch and file; a row's peers are the rows ranked equal with it (`range between current
    row and current row`). -#}
{% macro duckdb_newest_rows_sorted(relation, key, change_col, filter) -%}
    {%- set window -%}
        partition by {{ key | join(', ') }}
        order by {{ shopdw.change_ts(change_col) }} desc, _ingest_date desc, _batch_id desc, _source_file desc
    {%- endset -%}
    select *
    from (
        select
            *,
            rank() over ({{ window }}) as _version_rank,
            count(*) over ({{ window }} range between current row and current row) as _version_peers
        from {{ relation }}
        where {{ filter }}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{#- A whole raw table: no sort of every row. Each row gets one integer version key, its change
    timestamp in microseconds then its file's place in ingest date, batch and file order (the
    files, a few hundred, are numbered once; never 10^9 of them); an aggregate finds each key's
    largest and a join keeps the rows that hold it. Raw orders at 1M orders (4.4M rows): the
    staging view 3.4 s sorted, 2.1 s so; its staging tests 2.7-2.9 s each, 1.4-1.8 s. Not for a
    few keys: the filter then runs four times, and sorting a few rows costs less (an incremental
    int_orders_current 0.13 s sorted, 0.22 s so). -#}
{% macro duckdb_newest_rows_by_version_key(relation, key, change_col) -%}
    {%- set keyed -%}
        select
            versions.*,
            epoch_us({{ shopdw.change_ts(change_col) }})::hugeint * 1000000000 + files._file_order as _version_key
        from {{ relation }} as versions
        {{ shopdw.join_file_order(relation, 'versions') }}
    {%- endset -%}
    select
        keyed.*,
        count(*) over (partition by {% for k in key %}keyed.{{ k }}{% if not loop.last %}, {% endif %}{% endfor %})
            as _version_peers
    from ({{ keyed }}) as keyed
    inner join (
        select {{ key | join(', ') }}, max(_version_key) as _version_key
        from ({{ keyed }}) as all_keyed
        group by {{ key | join(', ') }}
    ) as newest
        on {% for k in key %}keyed.{{ k }} is not distinct from newest.{{ k }} and {% endfor -%}
        keyed._version_key = newest._version_key
{%- endmacro %}

{#- Joins each row of `alias` (a row of `relation`) to its file's place in ingest date, batch and
    file order, _file_order (1 for the oldest file; the files, a few hundred, are numbered once). -#}
{% macro join_file_order(relation, alias) -%}
    inner join (
        select
            _ingest_date as _file_ingest_date,
            _batch_id as _file_batch_id,
            _source_file as _file_name,
            dense_rank() over (order by _ingest_date, _batch_id, _source_file) as _file_order
        from (select distinct _ingest_date, _batch_id, _source_file from {{ relation }}) as numbered_files
    ) as files
        on {{ alias }}._ingest_date is not distinct from files._file_ingest_date
        and {{ alias }}._batch_id is not distinct from files._file_batch_id
        and {{ alias }}._source_file is not distinct from files._file_name
{%- endmacro %}

{#- 1 for the newest version of its key: the change timestamp, then ingest date, batch and file
    order; the row's hash settles a tie between rows of one file (exact duplicates are equal). -#}
{% macro version_rank(key, columns, change_col) -%}
    row_number() over (
        partition by {{ key | join(', ') }}
        order by
            {{ shopdw.change_ts(change_col) }} desc,
            _ingest_date desc,
            _batch_id desc,
            _source_file desc,
            {{ shopdw.row_hash(columns) }} desc
    )
{%- endmacro %}

{#- latest_versions of a whole table whose keys mostly have one raw row: a key's only row is its
    newest version, so only the rows of keys that repeat (and of a null key, should one reach raw)
    are ranked. The same rows as ranking every row, at 1M orders: the 8.0M web events 1.9 s instead
    of 19.1 s, order items 0.4 s instead of 1.5 s (ranking sorts every row with all its columns and
    hashes each one). -#}
{% macro latest_versions_of_repeated_keys(relation, key, columns, change_col) -%}
    {%- set out = columns | join(', ') ~ ', _loaded_at, _batch_id, _ingest_date' -%}
    select {{ out }}
    from {{ relation }} as single_version
    where {% for k in key %}single_version.{{ k }} is not null and {% endfor -%}
        not {{ shopdw.key_repeats(relation, key, 'single_version') }}

    union all

    select {{ out }}
    from (
        select
            *,
            {{ shopdw.version_rank(key, columns, change_col) }} as _version_rank
        from {{ relation }} as versions
        where {% for k in key %}versions.{{ k }} is null or {% endfor -%}
            {{ shopdw.key_repeats(relation, key, 'versions') }}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{#- True when the key of the row `alias` of `relation` has more than one raw row (no WITH: the
    staging macros nest latest_versions as a subquery on every target). -#}
{% macro key_repeats(relation, key, alias) -%}
    {{ return(adapter.dispatch('key_repeats', 'shopdw')(relation, key, alias)) }}
{%- endmacro %}

{% macro repeated_keys(relation, key) -%}
    select {{ key | join(', ') }}
    from {{ relation }}
    where {% for k in key %}{{ k }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
    group by {{ key | join(', ') }}
    having count(*) > 1
{%- endmacro %}

{#- [NOT] EXISTS: PostgreSQL and Redshift plan it as a hash (anti) join that can spill; a NOT IN
    over a subquery is a hashed subplan only while it fits PostgreSQL's work_mem, and a row-by-row
    search beyond it. -#}
{% macro default__key_repeats(relation, key, alias) -%}
    exists (
        select 1 from ({{ shopdw.repeated_keys(relation, key) }}) as repeated_keys
        where {% for k in key %}repeated_keys.{{ k }} = {{ alias }}.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
{%- endmacro %}

{#- DuckDB: a one-column key with IN. With EXISTS DuckDB materialized the 8M-row scan of raw web
    events that the outer query shares with the repeated keys' subquery (9.1 s against 1.9 s). -#}
{% macro duckdb__key_repeats(relation, key, alias) -%}
    {%- if key | length == 1 -%}
        {{ alias }}.{{ key[0] }} in ({{ shopdw.repeated_keys(relation, key) }})
    {%- else -%}
        {{ shopdw.default__key_repeats(relation, key, alias) }}
    {%- endif -%}
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
{% macro scd2_versions(relation, key, attrs, change_col, whole_table=false) -%}
    with
    {{ adapter.dispatch('scd2_one_per_timestamp', 'shopdw')(relation, key, attrs, change_col, whole_table) }},

    with_previous as (
        select
            *,
            lag(attr_key) over (partition by business_key order by changed_at) as previous_key
        from one_per_timestamp
    ),

    changes as (
        select * from with_previous
        where previous_key is null or previous_key <> attr_key
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

{#- The CTEs up to one_per_timestamp: one row per business key and change timestamp, with
    business_key, the attributes, changed_at, key_loaded_at and attr_key (what tells two versions'
    attributes apart). -#}
{% macro default__scd2_one_per_timestamp(relation, key, attrs, change_col, whole_table) -%}
    source_rows as (
        select
            {{ key }} as business_key,
            {% for a in attrs %}{{ a }},
            {% endfor -%}
            {{ shopdw.change_ts(change_col) }} as changed_at,
            _ingest_date,
            _batch_id,
            _source_file,
            max(_loaded_at) over (partition by {{ key }}) as key_loaded_at,
            {{ shopdw.row_hash(attrs) }} as attr_key
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
                    order by _ingest_date desc, _batch_id desc, _source_file desc, attr_key desc
                ) as ts_rank
            from source_rows
        ) as r
        where ts_rank = 1
    )
{%- endmacro %}

{#- DuckDB, whole table (a full build): no sort of every raw row and no md5 of each. Each key and
    change timestamp keeps the rows of its last file (an aggregate, then a join; files numbered by
    join_file_order); only several rows of one file are settled by the attributes' hash; versions
    are told apart by their attributes' text (row_text: the same equality as comparing its md5).
    At 1M orders int_customer_versions' query (4.4M raw rows) took 5.0 s sorted, 3.8 s so (with
    the model's source_rows not materialized: read four times here), int_product_versions 0.85 s,
    0.56 s. An incremental run's few keys are sorted (the default). -#}
{% macro duckdb__scd2_one_per_timestamp(relation, key, attrs, change_col, whole_table) -%}
    {%- if not whole_table -%}
        {{ shopdw.default__scd2_one_per_timestamp(relation, key, attrs, change_col, whole_table) }}
    {%- else -%}
    {%- set numbered -%}
        select
            versions.{{ key }} as business_key,
            {% for a in attrs %}versions.{{ a }},
            {% endfor -%}
            {{ shopdw.change_ts(change_col) }} as changed_at,
            versions._loaded_at,
            files._file_order
        from {{ relation }} as versions
        {{ shopdw.join_file_order(relation, 'versions') }}
        where versions.{{ key }} is not null
    {%- endset -%}
    last_file_rows as (
        select
            numbered.*,
            newest._timestamp_loaded_at,
            count(*) over (partition by numbered.business_key, numbered.changed_at) as _peers
        from ({{ numbered }}) as numbered
        inner join (
            select business_key, changed_at, max(_file_order) as _file_order, max(_loaded_at) as _timestamp_loaded_at
            from ({{ numbered }}) as all_numbered
            group by business_key, changed_at
        ) as newest
            on numbered.business_key = newest.business_key
            and numbered.changed_at = newest.changed_at
            and numbered._file_order = newest._file_order
    ),

    one_per_timestamp as (
        select *
        from (
            select
                *,
                {{ shopdw.row_text(attrs) }} as attr_key,
                max(_timestamp_loaded_at) over (partition by business_key) as key_loaded_at,
                row_number() over (
                    partition by business_key, changed_at
                    order by case when _peers > 1 then {{ shopdw.row_hash(attrs) }} end desc nulls last
                ) as ts_rank
            from last_file_rows
        ) as r
        where ts_rank = 1
    )
    {%- endif -%}
{%- endmacro %}

{#- Join condition: the dimension version valid at a point in time. The first version also
    covers everything before it (an order placed before its customer's first recorded change). -#}
{% macro valid_at(dim_alias, ts) -%}
    ({{ dim_alias }}.version_number = 1 or {{ dim_alias }}.valid_from <= {{ ts }})
    and {{ ts }} < {{ dim_alias }}.valid_to
{%- endmacro %}
