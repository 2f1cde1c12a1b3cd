with latest as (
    {{ shopdw.latest_versions(source('raw', 'products'), ['product_id'],
        ['product_id', 'product_category_name', 'product_name_lenght', 'product_description_lenght',
         'product_photos_qty', 'product_weight_g', 'product_length_cm', 'product_height_cm',
         'product_width_cm', 'list_price', 'updated_at'],
        change_col='updated_at') }}
),

final as (
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
        {{ shopdw.change_ts('updated_at') }} as updated_at,
        _loaded_at
    from latest
)

select * from final
