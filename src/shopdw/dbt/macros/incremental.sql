{#- The incremental watermark of a model: the newest raw _loaded_at it holds (the beginning of
    time when it is empty). -#}
{% macro incremental_watermark() -%}
    {{- return(adapter.dispatch('incremental_watermark', 'shopdw')()) -}}
{%- endmacro %}

{#- A scalar subquery, evaluated by the statement itself. -#}
{% macro default__incremental_watermark() -%}
    (select coalesce(max(_loaded_at), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})) from {{ this }})
{%- endmacro %}

{#- DuckDB: the same value, read when the model runs (before its statement writes anything) and
    inlined as a constant. DuckDB plans a constant far better than a scalar subquery: the
    `_loaded_at` filters on raw.* become table filters (row groups of older loads are skipped by
    their min/max) and the key filters below the version ranking get cardinality estimates; the
    incremental facts' and int_customer_metrics' statements took 2-3x longer with the subquery
    at 1M orders. The value is exact (microseconds since the epoch, no text round trip); it is
    read once per model and kept in the model's context (one query per model, not one per use). -#}
{% macro duckdb__incremental_watermark() -%}
    {%- if not execute -%}
        {{- return(shopdw.default__incremental_watermark()) -}}
    {%- endif -%}
    {%- set cache = context.get('shopdw_watermark_cache') -%}
    {%- if cache is none -%}
        {%- set cache = {} -%}
        {%- do context.update({'shopdw_watermark_cache': cache}) -%}
    {%- endif -%}
    {%- set key = this | string -%}
    {%- if key not in cache -%}
        {%- set micros = run_query("select epoch_us(coalesce(max(_loaded_at), cast('1900-01-01 00:00:00' as timestamp))) from " ~ this).columns[0].values()[0] -%}
        {%- do cache.update({key: "make_timestamp(cast(" ~ (micros | int) ~ " as bigint))"}) -%}
    {%- endif -%}
    {{- return(cache[key]) -}}
{%- endmacro %}

{#- Raw rows an incremental run must (re)read, given the watermark W (a SQL expression):
    - every row loaded after W;
    - rows stamped in the `lookback_minutes` before W, but not at W itself. The loader stamps all
      rows of a load run with the run's start time, taken before it waits for the warehouse's run
      lock (at most its lock timeout, 10 minutes by default); a run that stamped first but got the
      lock after a later-stamped run and after a build committed rows older than what the build saw.
    Rows stamped exactly W belong to a run that had committed before the build (shopdw transform
    holds the run lock while dbt runs), so they are not read again: after a backfill loaded in
    one run, the next day's build reads that day only. -#}
{% macro loaded_since(watermark) -%}
    (_loaded_at > {{ watermark }}
     or (_loaded_at < {{ watermark }}
         and _loaded_at > {{ dbt.dateadd('minute', -1 * var('lookback_minutes', 15) | int, watermark) }}))
{%- endmacro %}

{#- Keys of a raw table with a row to (re)read since the model's watermark. Sargable on raw:
    a scan of _loaded_at, no ranking of versions. -#}
{% macro loaded_keys(entity, key) -%}
    select {{ key }} from {{ source('raw', entity) }} where {{ shopdw.loaded_since(shopdw.incremental_watermark()) }}
{%- endmacro %}

{#- Order ids with a raw row (of the given order entities) loaded since the model's watermark. -#}
{% macro touched_order_ids(entities) -%}
    {%- set parts = [] -%}
    {%- for e in entities -%}
        {%- if e not in ('orders', 'order_items', 'order_payments', 'order_reviews') -%}
            {{ exceptions.raise_compiler_error("touched_order_ids: " ~ e ~ " is not an order entity") }}
        {%- endif -%}
        {%- do parts.append(shopdw.loaded_keys(e, 'order_id')) -%}
    {%- endfor -%}
    {{ parts | join('\n    union\n    ') }}
{%- endmacro %}

{#- a and b differ, nulls included (portable: no IS DISTINCT FROM on Redshift). -#}
{% macro differs(a, b) -%}
    ({{ a }} <> {{ b }} or ({{ a }} is null and {{ b }} is not null) or ({{ a }} is not null and {{ b }} is null))
{%- endmacro %}

{#- Orders of this fact whose dimension join changed: a new customer/product/seller version
    (or a new category translation) can change which version an order joins, or the attributes
    copied from it. Only the dimension keys loaded since the watermark are looked at, and only
    orders whose stored row no longer matches the version valid at purchase are returned, so a
    re-emitted but unchanged dimension row rewrites nothing. (Orders whose own rows changed are
    in touched_order_ids; their stored row is not needed here.)
    dims: any of 'customer', 'product', 'seller'; the fact holds purchased_at, the dimension's
    business key, its surrogate key and the copied attributes named below (customer_unique_id and
    customer_state; product_category). -#}
{% macro orders_with_changed_dimensions(dims) -%}
    {#- each branch filters the fact's rows to the loaded dimension keys *before* the join (a
        subquery), so only those orders are joined to the dimension, not all ~1M of them -#}
    {%- set parts = [] -%}
    {%- if 'customer' in dims -%}
        {%- do parts.append(
            "select f.order_id from (select * from " ~ this ~ " where customer_id in (" ~ shopdw.loaded_keys('customers', 'customer_id') ~ ")) as f"
            ~ " left join " ~ ref('dim_customer') ~ " as d on d.customer_id = f.customer_id and " ~ shopdw.valid_at('d', 'f.purchased_at')
            ~ " where " ~ shopdw.differs('f.customer_sk', 'd.customer_sk') ~ " or " ~ shopdw.differs('f.customer_unique_id', 'd.customer_unique_id')
            ~ " or " ~ shopdw.differs('f.customer_state', 'd.customer_state')
        ) -%}
    {%- endif -%}
    {%- if 'product' in dims -%}
        {%- set product_join = " left join " ~ ref('dim_product') ~ " as d on d.product_id = f.product_id and " ~ shopdw.valid_at('d', 'f.purchased_at') -%}
        {%- set product_changed = shopdw.differs('f.product_sk', 'd.product_sk') ~ " or " ~ shopdw.differs('f.product_category', 'd.product_category') -%}
        {%- do parts.append("select f.order_id from (select * from " ~ this ~ " where product_id in (" ~ shopdw.loaded_keys('products', 'product_id') ~ ")) as f"
            ~ product_join ~ " where " ~ product_changed) -%}
        {#- a new translation can rename the category of any product -#}
        {%- do parts.append("select f.order_id from (select * from " ~ this ~ " where exists (" ~ shopdw.loaded_keys('product_category_translation', 'product_category_name') ~ ")) as f"
            ~ product_join ~ " where " ~ product_changed) -%}
    {%- endif -%}
    {%- if 'seller' in dims -%}
        {%- do parts.append(
            "select f.order_id from (select * from " ~ this ~ " where seller_id in (" ~ shopdw.loaded_keys('sellers', 'seller_id') ~ ")) as f"
            ~ " left join " ~ ref('dim_seller') ~ " as d on d.seller_id = f.seller_id and " ~ shopdw.valid_at('d', 'f.purchased_at')
            ~ " where " ~ shopdw.differs('f.seller_sk', 'd.seller_sk')
        ) -%}
    {%- endif -%}
    {{ parts | join('\n    union\n    ') }}
{%- endmacro %}

{#- Restriction of the data tests on an incremental run (dbt calls this for the model a generic
    test checks). Before an incremental build `shopdw transform` writes each incremental model's
    watermark (its newest _loaded_at before the run) to meta.dbt_watermarks (schema_name,
    table_name, since); a full build or --full-refresh clears them. A test of an incremental model
    that has a _loaded_at column checks, when its row is there, only the rows loaded since that
    watermark (loaded_since), i.e. the rows this run (re)wrote from raw rows (rows rewritten only
    because a dimension version changed keep an older _loaded_at and are not re-tested); without
    a row, every row. The watermark is read by the test's SQL at execution time, not passed as a
    dbt var: vars that change every build make dbt re-parse the whole project.
    An explicit `where` config still applies.
    Which relations are such models is worked out once per build from dbt's graph and kept in it
    (like the watermarks, duckdb__test_restriction), not by a loop over every node per test. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set restricted = [] -%}
    {%- if execute -%}
        {%- set watermarked = graph.get('shopdw_watermarked_relations') -%}
        {%- if watermarked is none -%}
            {%- set watermarked = {} -%}
            {%- for node in graph.nodes.values() -%}
                {%- if node.resource_type == 'model' and node.config.materialized == 'incremental'
                      and '_loaded_at' in node.columns -%}
                    {%- do watermarked.update({(node.schema | lower) ~ '.' ~ ((node.alias or node.name) | lower): true}) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do graph.update({'shopdw_watermarked_relations': watermarked}) -%}
        {%- endif -%}
        {%- if ((relation.schema | lower) ~ '.' ~ (relation.identifier | lower)) in watermarked -%}
            {%- do restricted.append(shopdw.test_restriction(shopdw.checked_identifier(relation.schema | lower),
                                                             shopdw.checked_identifier(relation.identifier | lower))) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- do restricted.append("(" ~ where ~ ")") -%}
    {%- endif -%}
    {%- if restricted -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ (restricted | join(" and ")) ~ ") dbt_subquery") -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The rows of an incremental model an incremental build's test checks, given the model's
    schema and table (checked identifiers) and its row in meta.dbt_watermarks: those loaded since
    the recorded watermark, or every row when there is none. -#}
{% macro test_restriction(schema_name, table_name) -%}
    {{ return(adapter.dispatch('test_restriction', 'shopdw')(schema_name, table_name)) }}
{%- endmacro %}

{#- The watermark read by the test's SQL (a scalar subquery). -#}
{% macro default__test_restriction(schema_name, table_name) -%}
    {%- set key = "schema_name = '" ~ schema_name ~ "' and table_name = '" ~ table_name ~ "'" -%}
    {%- set watermark = "(select since from meta.dbt_watermarks where " ~ key ~ ")" -%}
    {{- return("(not exists (select 1 from meta.dbt_watermarks where " ~ key ~ ") or "
        ~ shopdw.loaded_since(watermark) ~ ")") -}}
{%- endmacro %}

{#- DuckDB: the same restriction with the watermark read when the test runs (dbt compiles a
    test right before running it, after `shopdw transform` recorded the watermarks) and inlined
    as a constant, as duckdb__incremental_watermark does for the models. DuckDB then skips the
    row groups of older loads by their _loaded_at min/max, where the scalar subquery made each
    test read the whole table: at 1M orders a restricted test of fct_web_events (8.4M rows) took
    0.13-0.16 s, of fct_order_items 0.07-0.14 s, against under 0.01 s with the constant (no new
    rows). Without a recorded watermark, every row ('1 = 1').
    The watermarks are read once per build, by the first test that needs one, and kept in dbt's
    `graph` (one dict per build, shared by every node's context): a query per test cost ~40 of an
    incremental build's ~400 statements. They do not change while dbt runs (`shopdw transform`
    writes them before it starts dbt and holds the run lock). -#}
{% macro duckdb__test_restriction(schema_name, table_name) -%}
    {%- set cache = graph.get('shopdw_test_watermarks') -%}
    {%- if cache is none -%}
        {%- set cache = {} -%}
        {%- for row in run_query("select schema_name, table_name, epoch_us(since) from meta.dbt_watermarks").rows -%}
            {%- do cache.update({row[0] ~ '.' ~ row[1]: row[2]}) -%}
        {%- endfor -%}
        {%- do graph.update({'shopdw_test_watermarks': cache}) -%}
    {%- endif -%}
    {%- set since = cache.get(schema_name ~ '.' ~ table_name) -%}
    {%- if since is none -%}
        {{- return("1 = 1") -}}
    {%- endif -%}
    {{- return(shopdw.loaded_since("make_timestamp(cast(" ~ (since | int) ~ " as bigint))")) -}}
{%- endmacro %}

{#- A schema or table name, checked before it is quoted into SQL as a string. -#}
{% macro checked_identifier(value) -%}
    {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]*', value | string) -%}
        {{ exceptions.raise_compiler_error("get_where_subquery: unexpected relation name " ~ value) }}
    {%- endif -%}
    {{- value -}}
{%- endmacro %}
