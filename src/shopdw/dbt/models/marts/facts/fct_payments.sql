{{ config(unique_key=['order_id', 'payment_sequential'], dist='order_id', sort=['order_date']) }}

with
{% if is_incremental() %}
touched as (
    {{ shopdw.touched_order_ids(['orders', 'order_payments']) }}
),

{#- the touched orders only: their newest versions from int_orders_current (an incremental
    table, built before this model), the other entities' staging SQL over their raw versions (the filter
    sits below the ranking) -#}
payments as (
    {{ shopdw.stg_order_payments(where='order_id in (select order_id from touched)') }}
),

orders as (
    select * from {{ ref('int_orders_current') }} where order_id in (select order_id from touched)
),
{% else %}

payments as (
    select * from {{ ref('stg_shop__order_payments') }}
),

orders as (
    select * from {{ ref('int_orders_current') }}
),
{% endif %}

final as (
    select
        md5(payments.order_id || '-' || cast(payments.payment_sequential as {{ dbt.type_string() }})) as payment_sk,
        payments.order_id,
        payments.payment_sequential,
        orders.customer_id,
        cast(orders.purchased_at as date) as order_date,
        payments.payment_type,
        payments.payment_installments,
        payments.payment_value,
        case when orders._loaded_at > payments._loaded_at then orders._loaded_at else payments._loaded_at end as _loaded_at
    from payments
    inner join orders on orders.order_id = payments.order_id
)

select * from final
