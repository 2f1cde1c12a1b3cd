{#- Geolocation has many rows per zip prefix and no unique key: exact duplicates dropped,
    names normalized; dim_geography reduces it to one row per prefix. -#}
with source_rows as (
    select distinct
        {{ shopdw.normalize_zip('geolocation_zip_code_prefix') }} as zip_code_prefix,
        cast(geolocation_lat as double precision) as lat,
        cast(geolocation_lng as double precision) as lng,
        {{ shopdw.normalize_city('geolocation_city') }} as city,
        {{ shopdw.normalize_state('geolocation_state') }} as state
    from {{ source('raw', 'geolocation') }}
    where geolocation_zip_code_prefix is not null
)

select * from source_rows
