{#- Every day from the first order's purchase date to the last date any order mentions
    (purchase, delivery, estimated delivery). -#}
with orders as (
    {#- the facts hold every order's newest version (cheaper than ranking raw again) -#}
    select purchased_at, delivered_at, estimated_delivery_at from {{ ref('fct_orders') }}
),

holidays as (
    select * from {{ ref('br_national_holidays') }}
),

span as (
    select
        min(cast(purchased_at as date)) as first_day,
        max(cast(greatest(
            purchased_at,
            coalesce(delivered_at, purchased_at),
            coalesce(estimated_delivery_at, purchased_at)
        ) as date)) as last_day
    from orders
),

digits as (
    select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
),

numbers as (
    select a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d as n
    from digits as a
    cross join digits as b
    cross join digits as c
    cross join digits as e
    cross join digits as f
),

days as (
    select {{ shopdw.add_days('span.first_day', 'numbers.n') }} as date_day
    from span
    inner join numbers on numbers.n <= {{ shopdw.days_between('span.first_day', 'span.last_day') }}
),

final as (
    select
        days.date_day,
        {{ shopdw.date_part_int('year', 'days.date_day') }} * 10000
            + {{ shopdw.date_part_int('month', 'days.date_day') }} * 100
            + {{ shopdw.date_part_int('day', 'days.date_day') }} as date_key,
        {{ shopdw.date_part_int('year', 'days.date_day') }} as year,
        {{ shopdw.date_part_int('quarter', 'days.date_day') }} as quarter,
        {{ shopdw.date_part_int('month', 'days.date_day') }} as month,
        {{ shopdw.date_part_int('day', 'days.date_day') }} as day_of_month,
        {{ shopdw.iso_week('days.date_day') }} as iso_week,
        {{ shopdw.iso_day_of_week('days.date_day') }} as iso_day_of_week,
        case {{ shopdw.iso_day_of_week('days.date_day') }}
            when 1 then 'Monday' when 2 then 'Tuesday' when 3 then 'Wednesday' when 4 then 'Thursday'
            when 5 then 'Friday' when 6 then 'Saturday' else 'Sunday'
        end as day_name,
        cast({{ dbt.date_trunc('week', 'days.date_day') }} as date) as week_start,
        cast({{ dbt.date_trunc('month', 'days.date_day') }} as date) as month_start,
        cast({{ dbt.date_trunc('quarter', 'days.date_day') }} as date) as quarter_start,
        {{ shopdw.iso_day_of_week('days.date_day') }} >= 6 as is_weekend,
        holidays.holiday_date is not null as is_holiday,
        holidays.holiday_name
    from days
    left join holidays on holidays.holiday_date = days.date_day
)

select * from final
