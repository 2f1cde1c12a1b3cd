{#- SCD2 integrity: per business key, versions are contiguous (valid_to = next valid_from),
    never overlap, and exactly one is current. Fails on every offending version. -#}
{% test no_overlapping_versions(model, key) %}
with v as (
    select
        {{ key }} as k,
        valid_from,
        valid_to,
        is_current,
        lead(valid_from) over (partition by {{ key }} order by valid_from) as next_from,
        sum(case when is_current then 1 else 0 end) over (partition by {{ key }}) as currents
    from {{ model }}
)
select *
from v
where valid_from >= valid_to
   or (next_from is not null and next_from <> valid_to)
   or (next_from is null and not is_current)
   or currents <> 1
{% endtest %}
