with latest as (
    {{ shopdw.latest_versions(source('raw', 'product_category_translation'), ['product_category_name'],
        ['product_category_name', 'product_category_name_english']) }}
),

final as (
    select
        nullif(trim(lower(product_category_name)), '') as product_category_name,
        nullif(trim(lower(product_category_name_english)), '') as product_category_name_english
    from latest
)

select * from final
