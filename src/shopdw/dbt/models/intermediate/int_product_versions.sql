{#- SCD2 history of each product (category, list price, sizes), from every version in raw. -#}
{{ config(materialized='incremental', unique_key='product_id', incremental_strategy='delete+insert',
          on_schema_change='fail') }}

with source_rows as {{ shopdw.not_materialized() }} (
    select
        product_id,
        nullif(trim(lower(product_category_name)), '') as product_category_name,
        cast(product_name_lenght as integer) as product_name_length,
        cast(product_description_lenght as integer) as product_description_length,
        cast(product_photos_qty as integer) as product_photos_qty,
        cast(product_weight_g as integer) as product_weight_g,
        cast(product_length_cm as integer) as product_length_cm,
        cast(product_height_cm as integer) as product_height_cm,
        cast(product_width_cm as integer) as product_width_cm,
        {{ shopdw.money('list_price') }} as list_price,
        updated_at,
        _ingest_date,
        _batch_id,
        _source_file,
        _loaded_at
    from {{ source('raw', 'products') }}
    {% if is_incremental() %}
    {#- every raw version of the keys loaded since the watermark: their whole history is re-derived -#}
    where product_id in ({{ shopdw.loaded_keys('products', 'product_id') }})
    {% endif %}
),

versions as (
    {{ shopdw.scd2_versions('source_rows', 'product_id',
        ['product_category_name', 'product_name_length', 'product_description_length', 'product_photos_qty',
         'product_weight_g', 'product_length_cm', 'product_height_cm', 'product_width_cm', 'list_price'],
        'updated_at', whole_table=not is_incremental()) }}
)

select * from versions
