{#- SCD Type 2: one row per version of a seller. -#}
with versions as (
    select * from {{ ref('int_seller_versions') }}
),

final as (
    select
        md5(seller_id || '|' || cast(valid_from as {{ dbt.type_string() }})) as seller_sk,
        seller_id,
        seller_zip_code_prefix,
        seller_city,
        seller_state,
        valid_from,
        valid_to,
        is_current,
        version_number
    from versions
)

select * from final
