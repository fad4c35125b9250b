"""Reports and the manager's dashboard (issue 18): figures over orders, payments and
refunds (closed days kept in a daily rollup), as JSON and as streamed CSV."""
