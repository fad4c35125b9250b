"""Reports and the manager's dashboard (issue 18): read-only figures over orders, payments,
refunds and the event log, as JSON and as streamed CSV."""
