{#- SCD Type 2: one row per version of a customer account (customer_id). -#}
with versions as (
    select * from {{ ref('int_customer_versions') }}
),

final as (
    select
        md5(customer_id || '|' || cast(valid_from as {{ dbt.type_string() }})) as customer_sk,
        customer_id,
        customer_unique_id,
        customer_zip_code_prefix,
        customer_city,
        customer_state,
        valid_from,
        valid_to,
        is_current,
        version_number
    from versions
)

select * from final
