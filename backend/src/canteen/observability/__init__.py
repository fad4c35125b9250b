"""Operational signals: Prometheus metrics (canteen.observability.metrics)."""
