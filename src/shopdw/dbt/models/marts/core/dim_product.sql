{#- SCD Type 2: one row per version of a product; category in Portuguese and English
    ('unknown' when missing or untranslated). -#}
with versions as (
    select * from {{ ref('int_product_versions') }}
),

translation as (
    select * from {{ ref('stg_shop__product_category_translation') }}
),

final as (
    select
        md5(versions.product_id || '|' || cast(versions.valid_from as {{ dbt.type_string() }})) as product_sk,
        versions.product_id,
        versions.product_category_name,
        coalesce(translation.product_category_name_english, versions.product_category_name, 'unknown')
            as product_category,
        versions.product_name_length,
        versions.product_description_length,
        versions.product_photos_qty,
        versions.product_weight_g,
        versions.product_length_cm,
        versions.product_height_cm,
        versions.product_width_cm,
        versions.list_price,
        versions.valid_from,
        versions.valid_to,
        versions.is_current,
        versions.version_number
    from versions
    left join translation on translation.product_category_name = versions.product_category_name
)

select * from final
