"""Prometheus metrics of a Celery worker, on a port of its own (CANTEEN_WORKER_METRICS_ADDR).

A worker has no HTTP server to put a token on, so its metrics are protected the other
way: a separate port that only Prometheus reaches (not published, see deploy/). Counted:
every job's outcome (`canteen_jobs_total{task, outcome}`: succeeded, failed, retried; OTP
SMS are the `sms.send` job) and the business events the jobs commit (orders cancelled by
the payment timeout, refunds), with the same counters as the API.

Celery's prefork pool runs jobs in child processes, so the values go through
prometheus-client's multiprocess files: PROMETHEUS_MULTIPROC_DIR is set (to a fresh
directory) before prometheus-client is first imported, and the worker's main process
serves the sum of its children.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

_installed = False
JOBS_METRIC = "canteen_jobs"  # exported as canteen_jobs_total


def parse_addr(addr: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"CANTEEN_WORKER_METRICS_ADDR={addr!r} is not HOST:PORT")
    return host or "0.0.0.0", int(port)  # noqa: S104 - the operator chose no host


def install_worker_metrics(addr: str | None) -> None:
    """Count job outcomes and committed events in this worker; serve them once the
    worker's main process starts. A no-op without an address; idempotent."""
    global _installed
    if not addr or _installed:
        return
    host, port = parse_addr(addr)
    if "prometheus_client" not in sys.modules:
        os.environ.setdefault(
            "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="canteen-worker-metrics-")
        )
    from celery import signals
    from prometheus_client import Counter

    from canteen.observability.metrics import install_event_counters

    jobs = Counter(JOBS_METRIC, "Celery job runs by task and outcome", ["task", "outcome"])

    def outcome(name: str) -> Any:
        def count(sender: Any = None, **_: Any) -> None:
            jobs.labels(str(getattr(sender, "name", None) or "unknown"), name).inc()

        return count

    def serve(**_: Any) -> None:
        from prometheus_client import CollectorRegistry, start_http_server
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            mp.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:  # prometheus-client was imported before us: this process's values only
            from prometheus_client import REGISTRY

            registry = REGISTRY
        start_http_server(port, addr=host, registry=registry)

    def process_gone(pid: int | None = None, **_: Any) -> None:
        from prometheus_client import multiprocess as mp

        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            mp.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]

    signals.task_success.connect(outcome("succeeded"), weak=False)
    signals.task_failure.connect(outcome("failed"), weak=False)
    signals.task_retry.connect(outcome("retried"), weak=False)
    signals.worker_init.connect(serve, weak=False)
    signals.worker_process_shutdown.connect(process_gone, weak=False)
    install_event_counters()
    _installed = True
