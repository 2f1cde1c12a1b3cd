{#- SCD2 history of each seller, from every version in raw. -#}
{{ config(materialized='incremental', unique_key='seller_id', incremental_strategy='delete+insert',
          on_schema_change='fail') }}

with source_rows as {{ shopdw.not_materialized() }} (
    select
        seller_id,
        {{ shopdw.normalize_zip('seller_zip_code_prefix') }} as seller_zip_code_prefix,
        {{ shopdw.normalize_city('seller_city') }} as seller_city,
        {{ shopdw.normalize_state('seller_state') }} as seller_state,
        updated_at,
        _ingest_date,
        _batch_id,
        _source_file,
        _loaded_at
    from {{ source('raw', 'sellers') }}
    {% if is_incremental() %}
    {#- every raw version of the keys loaded since the watermark: their whole history is re-derived -#}
    where seller_id in ({{ shopdw.loaded_keys('sellers', 'seller_id') }})
    {% endif %}
),

versions as (
    {{ shopdw.scd2_versions('source_rows', 'seller_id',
        ['seller_zip_code_prefix', 'seller_city', 'seller_state'], 'updated_at', whole_table=not is_incremental()) }}
)

select * from versions
