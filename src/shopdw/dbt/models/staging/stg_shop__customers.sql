with latest as (
    {{ shopdw.latest_versions(source('raw', 'customers'), ['customer_id'],
        ['customer_id', 'customer_unique_id', 'customer_zip_code_prefix', 'customer_city', 'customer_state', 'updated_at'],
        change_col='updated_at') }}
),

final as (
    select
        customer_id,
        customer_unique_id,
        {{ shopdw.normalize_zip('customer_zip_code_prefix') }} as customer_zip_code_prefix,
        {{ shopdw.normalize_city('customer_city') }} as customer_city,
        {{ shopdw.normalize_state('customer_state') }} as customer_state,
        {{ shopdw.change_ts('updated_at') }} as updated_at,
        _loaded_at
    from latest
)

select * from final
