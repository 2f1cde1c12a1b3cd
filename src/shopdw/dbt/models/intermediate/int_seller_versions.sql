{#- SCD2 history of each seller, from every version in raw. -#}
with source_rows as (
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
),

versions as (
    {{ shopdw.scd2_versions('source_rows', 'seller_id',
        ['seller_zip_code_prefix', 'seller_city', 'seller_state'], 'updated_at') }}
)

select * from versions
