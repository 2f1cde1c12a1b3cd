with latest as (
    {{ shopdw.latest_versions(source('raw', 'order_payments'), ['order_id', 'payment_sequential'],
        ['order_id', 'payment_sequential', 'payment_type', 'payment_installments', 'payment_value']) }}
),

final as (
    select
        order_id,
        cast(payment_sequential as integer) as payment_sequential,
        coalesce(lower(trim(payment_type)), 'not_defined') as payment_type,
        cast(payment_installments as integer) as payment_installments,
        {{ shopdw.money('payment_value') }} as payment_value,
        _loaded_at
    from latest
)

select * from final
