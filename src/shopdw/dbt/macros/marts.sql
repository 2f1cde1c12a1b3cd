{#- The sales lines the daily dashboard marts aggregate: every item of a revenue order, with its
    order date, the customer's state at purchase ('unknown' when missing) and its category.
    mart_daily_sales and mart_daily_orders group these same lines, so their revenue, freight and
    items agree per (order_date, customer_state) by construction. -#}
{% macro sales_lines() %}
    select
        order_items.order_date,
        coalesce(customers.customer_state, 'unknown') as customer_state,
        coalesce(order_items.product_category, 'unknown') as product_category,
        order_items.order_id,
        order_items.price,
        order_items.freight_value
    from {{ ref('fct_order_items') }} as order_items
    inner join {{ ref('fct_orders') }} as orders on orders.order_id = order_items.order_id and orders.is_revenue
    left join {{ ref('dim_customer') }} as customers on customers.customer_sk = order_items.customer_sk
{% endmacro %}
