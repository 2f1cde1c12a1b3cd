{#- The people (customer_unique_id) whose per-person figures an incremental run of a per-person
    model ({{ this }}, which holds _loaded_at) must re-derive: every person any of whose rows
    could have changed since the model's watermark (the newest _loaded_at it holds; loaded_since
    in macros/incremental.sql). A superset is harmless (those people are re-derived from the
    same facts and come out the same); a person missing would leave a stale row, so each source
    of change is followed back to every person it could have touched:
    - orders with a raw order/item/payment/review row loaded since: the accounts (customer_id)
      of every raw version of those orders (an order that moved to another account touches both);
    - accounts with a raw customers row loaded since (a new version, a move, a new account);
    - accounts with an order containing a product with a raw row loaded since whose raw rows do
      not all name one category (or that has no older raw row): the orders purchased at or after
      the new row's change timestamp, or all of them when that row is or ties the product's first
      version (a new version can change the category the order's items carry; the simulator
      re-emits every product it sells: all orders of those would be ~40% of all people at 1M).
      A new row that repeats an older row's change timestamp and category, where every row at that
      timestamp names that one category, changes no category and is left out (a re-emitted product
      whose category changed once, months ago, would otherwise touch every buyer since: at 1M
      orders 19k of a day's 31k touched people);
    - a new category translation can rename any product's category: then everyone;
    - web events with a raw row loaded since: the person of every raw version of them.
    Accounts become people through every raw version of the account (raw.customers), so a person
    an account or an order left is re-derived too (and dropped when nothing of them is left). -#}
{% macro touched_people() -%}
    select customer_unique_id from {{ source('raw', 'customers') }}
    where customer_id in (
        select customer_id from {{ source('raw', 'orders') }}
        where order_id in ({{ shopdw.touched_order_ids(['orders', 'order_items', 'order_payments', 'order_reviews']) }})
        union
        {{ shopdw.loaded_keys('customers', 'customer_id') }}
        union
        {#- a product whose raw rows do not all carry one category (or a new one) can change the
            category of its orders' items: from its new rows' change timestamp on, or for every
            order when one of them is (or ties) the product's first version (the first version
            also covers everything before it) #}
        select items.customer_id
        from {{ ref('fct_order_items') }} as items
        inner join (
            select
                product_id,
                min(case when is_new = 1 and not repeats_older_row then change_ts end) as first_new_change,
                min(change_ts) as first_change
            from (
                select
                    product_id,
                    change_ts,
                    category,
                    is_new,
                    max(1 - is_new) over (partition by product_id, change_ts) = 1
                        and min(category) over (partition by product_id, change_ts)
                            = max(category) over (partition by product_id, change_ts) as repeats_older_row
                from (
                    select
                        product_id,
                        {{ shopdw.change_ts('updated_at') }} as change_ts,
                        coalesce(product_category_name, '') as category,
                        case when {{ shopdw.loaded_since(shopdw.incremental_watermark()) }} then 1 else 0 end as is_new
                    from {{ source('raw', 'products') }}
                    where product_id in ({{ shopdw.loaded_keys('products', 'product_id') }})
                ) as product_rows
            ) as flagged_rows
            group by product_id
            having count(distinct category) > 1 or sum(1 - is_new) = 0
        ) as changed on changed.product_id = items.product_id
        where changed.first_new_change <= changed.first_change or items.purchased_at >= changed.first_new_change
    )
    union
    select customer_unique_id from {{ source('raw', 'web_events') }}
    where event_id in ({{ shopdw.loaded_keys('web_events', 'event_id') }})
    union
    select customer_unique_id from {{ ref('int_customer_versions') }}
    where exists ({{ shopdw.loaded_keys('product_category_translation', 'product_category_name') }})
{%- endmacro %}

{#- rank() over (order by `column` `direction`) for each distinct value of `column` in
    `relation`, as value_rank: 1 + the rows before the value (ties share a rank). Ranking the
    distinct values and joining them back is cheaper than ranking every row when values repeat
    (int_customer_rfm: a few hundred day counts, ~70k lifetime values among ~1M buyers). -#}
{% macro rank_per_value(relation, column, direction) -%}
    select
        {{ column }},
        1 + coalesce(sum(count(*)) over (
            order by {{ column }} {{ direction }} rows between unbounded preceding and 1 preceding
        ), 0) as value_rank
    from {{ relation }}
    group by {{ column }}
{%- endmacro %}
