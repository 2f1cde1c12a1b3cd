with latest as (
    {{ shopdw.latest_versions(source('raw', 'sellers'), ['seller_id'],
        ['seller_id', 'seller_zip_code_prefix', 'seller_city', 'seller_state', 'updated_at'],
        change_col='updated_at') }}
),

final as (
    select
        seller_id,
        {{ shopdw.normalize_zip('seller_zip_code_prefix') }} as seller_zip_code_prefix,
        {{ shopdw.normalize_city('seller_city') }} as seller_city,
        {{ shopdw.normalize_state('seller_state') }} as seller_state,
        {{ shopdw.change_ts('updated_at') }} as updated_at,
        _loaded_at
    from latest
)

select * from final
