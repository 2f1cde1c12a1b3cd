{#- The sales lines of mart_daily_sales: every item of a revenue order, with its order date, the
    customer's state at purchase ('unknown' when missing), its category and its order's review
    score. All items of an order share its date and state (both come from the order). -#}
{% macro sales_lines() %}
    select
        order_items.order_date,
        coalesce(order_items.customer_state, 'unknown') as customer_state,
        coalesce(order_items.product_category, 'unknown') as product_category,
        order_items.order_id,
        order_items.price,
        order_items.freight_value,
        orders.review_score
    from {{ ref('fct_order_items') }} as order_items
    inner join {{ ref('fct_orders') }} as orders on orders.order_id = order_items.order_id and orders.is_revenue
{% endmacro %}
