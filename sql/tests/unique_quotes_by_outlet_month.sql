-- (outlet, month) identifies exactly one row of the quotes_by_outlet_month mart.

select outlet, month, count(*) as n_rows
from {{ ref('quotes_by_outlet_month') }}
group by outlet, month
having count(*) > 1
