{#- One row per zip prefix: the most frequent (normalized) city and state among its geolocation
    rows, the mean coordinates, the macro-region. Prefixes that customers or sellers use but
    geolocation lacks are added with their own city/state and no coordinates. -#}
with geolocation as (
    select * from {{ ref('stg_shop__geolocation') }}
),

customer_versions as (
    select * from {{ ref('int_customer_versions') }}
),

seller_versions as (
    select * from {{ ref('int_seller_versions') }}
),

coordinates as (
    select
        zip_code_prefix,
        -- averaged as exact decimals: a float sum depends on the order threads add it up,
        -- which would make a rebuild differ in the last bits
        cast(avg(cast(lat as numeric(18, 12))) as double precision) as lat,
        cast(avg(cast(lng as numeric(18, 12))) as double precision) as lng,
        count(*) as geolocation_points
    from geolocation
    group by zip_code_prefix
),

city_votes as (
    select
        zip_code_prefix,
        city,
        state,
        row_number() over (
            partition by zip_code_prefix
            order by count(*) desc, city, state
        ) as vote_rank
    from geolocation
    where city is not null and state is not null
    group by zip_code_prefix, city, state
),

from_geolocation as (
    select
        coordinates.zip_code_prefix,
        city_votes.city,
        city_votes.state,
        coordinates.lat,
        coordinates.lng,
        coordinates.geolocation_points
    from coordinates
    left join city_votes
        on city_votes.zip_code_prefix = coordinates.zip_code_prefix and city_votes.vote_rank = 1
),

used_elsewhere as (
    select customer_zip_code_prefix as zip_code_prefix, customer_city as city, customer_state as state
    from customer_versions
    union all
    select seller_zip_code_prefix, seller_city, seller_state
    from seller_versions
),

missing as (
    select
        zip_code_prefix,
        city,
        state,
        row_number() over (partition by zip_code_prefix order by count(*) desc, city, state) as vote_rank
    from used_elsewhere
    where zip_code_prefix is not null
      and zip_code_prefix not in (select zip_code_prefix from coordinates)
    group by zip_code_prefix, city, state
),

final as (
    select
        zip_code_prefix,
        city,
        state,
        {{ shopdw.state_region('state') }} as region,
        lat,
        lng,
        geolocation_points
    from from_geolocation
    union all
    select
        zip_code_prefix,
        city,
        state,
        {{ shopdw.state_region('state') }} as region,
        cast(null as double precision) as lat,
        cast(null as double precision) as lng,
        0 as geolocation_points
    from missing
    where vote_rank = 1
)

select * from final
