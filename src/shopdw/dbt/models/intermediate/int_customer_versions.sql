{#- SCD2 history of each customer account (customer_id), from every version in raw. -#}
{{ config(materialized='incremental', unique_key='customer_id', incremental_strategy='delete+insert',
          on_schema_change='fail') }}

with source_rows as {{ shopdw.not_materialized() }} (
    select
        customer_id,
        customer_unique_id,
        {{ shopdw.normalize_zip('customer_zip_code_prefix') }} as customer_zip_code_prefix,
        {{ shopdw.normalize_city('customer_city') }} as customer_city,
        {{ shopdw.normalize_state('customer_state') }} as customer_state,
        updated_at,
        _ingest_date,
        _batch_id,
        _source_file,
        _loaded_at
    from {{ source('raw', 'customers') }}
    {% if is_incremental() %}
    {#- every raw version of the keys loaded since the watermark: their whole history is re-derived -#}
    where customer_id in ({{ shopdw.loaded_keys('customers', 'customer_id') }})
    {% endif %}
),

versions as (
    {{ shopdw.scd2_versions('source_rows', 'customer_id',
        ['customer_unique_id', 'customer_zip_code_prefix', 'customer_city', 'customer_state'], 'updated_at',
        whole_table=not is_incremental()) }}
)

select * from versions
