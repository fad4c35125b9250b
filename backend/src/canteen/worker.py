"""Celery worker: runs the registered job functions on a per-process event loop.

Start it with `canteen worker` (or `celery -A canteen.worker worker`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from celery import Celery, Task, bootsteps

from canteen.core.jobs import REGISTRY, RetryableJobError, backoff_seconds, celery_app

log = logging.getLogger("canteen.worker")

_loop: asyncio.AbstractEventLoop | None = None
_container: Any = None


def _worker_runtime() -> tuple[asyncio.AbstractEventLoop, Any]:
    """One loop and one container per worker process, created lazily after fork."""
    global _loop, _container
    if _loop is None:
        from canteen.bootstrap import build_container
        from canteen.settings import get_settings

        _loop = asyncio.new_event_loop()
        _container = build_container(get_settings(), for_worker=True)
    return _loop, _container


def make_celery(broker_url: str, *, visibility_timeout: int = 60) -> Celery:
    """The shared app (`canteen.core.jobs.celery_app`: late acks, prefetch 1, the beat
    schedule), plus what only a worker needs: the restore step and every job's body."""
    from canteen.bootstrap import load_jobs

    app = celery_app(broker_url, visibility_timeout=visibility_timeout)
    app.steps["consumer"].add(RestoreUnacked)
    load_jobs()
    for spec in REGISTRY.values():
        _register(app, spec.name, spec.max_retries)
    return app


class RestoreUnacked(bootsteps.StartStopStep):  # type: ignore[misc]
    """Hand back jobs of dead workers soon after their visibility timeout.

    kombu's Redis transport looks for overdue unacked jobs when a worker starts and then
    only every 100 s (every 10th of its 10-second ticks), so with a short visibility
    timeout a killed worker's job could still wait minutes. This step runs the same
    restore (the transport's own, under its mutex) every quarter of the timeout."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.timer_ref: Any = None

    def start(self, parent: Any) -> None:
        qos = getattr(parent.task_consumer.channel, "qos", None)
        if qos is None or not hasattr(qos, "restore_visible"):
            return  # not the Redis transport

        def restore() -> None:
            try:
                qos.restore_visible(num=100, interval=1)
            except Exception:
                log.warning("could not restore unacknowledged jobs", exc_info=True)

        every = float(parent.app.conf.canteen_restore_every)
        self.timer_ref = parent.timer.call_repeatedly(every, restore)

    def stop(self, parent: Any) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None


def _register(app: Celery, name: str, max_retries: int) -> None:
    @app.task(name=name, bind=True, max_retries=max_retries)  # type: ignore[misc]
    def run(self: Task, **kwargs: Any) -> None:
        loop, container = _worker_runtime()
        try:
            loop.run_until_complete(REGISTRY[name].func(container, **kwargs))
        except RetryableJobError as exc:
            raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries)) from exc


def _default_app() -> Celery:
    from canteen.core.logging import configure_logging
    from canteen.settings import get_settings

    configure_logging()
    settings = get_settings()
    # `celery -A canteen.worker` does not pass through `canteen worker`'s check: a worker
    # (it applies webhooks and sends refunds) must refuse development secrets too.
    from canteen.settings import ConfigurationError, check_production

    try:
        check_production(settings)
    except ConfigurationError as exc:
        raise SystemExit(str(exc)) from exc
    # Before anything imports prometheus-client: it picks multiprocess mode at import.
    from canteen.observability.worker import install_worker_metrics

    install_worker_metrics(settings.worker_metrics_addr)
    from canteen.observability.errors import install_sentry

    install_sentry(settings, "worker")  # off unless CANTEEN_SENTRY_DSN is set
    from canteen.observability.tracing import install_worker_tracing

    install_worker_tracing()  # off unless OTEL_* ask for it
    broker = settings.resolved_broker_url
    if not broker:
        raise SystemExit("The Celery worker needs CANTEEN_REDIS_URL")
    return make_celery(broker, visibility_timeout=settings.job_visibility_timeout_seconds)


def __getattr__(name: str) -> Any:
    # `celery -A canteen.worker` looks up `app`/`celery`; build it only when asked so
    # importing this module from the API process has no side effects.
    if name in ("app", "celery"):
        return _default_app()
    raise AttributeError(name)
