"""Ops: the operator's view: the HTTP health/metrics listener, Prometheus metrics, structured logs."""
