"""Celery worker: runs the registered job functions on a per-process event loop.

Start it with `canteen worker` (or `celery -A canteen.worker worker`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from celery import Celery, Task

from canteen.core.jobs import PERIODIC, REGISTRY, RetryableJobError, backoff_seconds, load_jobs

log = logging.getLogger("canteen.worker")

_loop: asyncio.AbstractEventLoop | None = None
_container: Any = None


def _worker_runtime() -> tuple[asyncio.AbstractEventLoop, Any]:
    """One loop and one container per worker process, created lazily after fork."""
    global _loop, _container
    if _loop is None:
        from canteen.core.container import build_container
        from canteen.settings import get_settings

        _loop = asyncio.new_event_loop()
        _container = build_container(get_settings(), for_worker=True)
    return _loop, _container


def make_celery(broker_url: str) -> Celery:
    app = Celery("canteen", broker=broker_url)
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,  # a crashed worker's task is redelivered, so tasks are idempotent
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule={name: {"task": name, "schedule": every} for name, every in PERIODIC.items()},
    )
    load_jobs()
    for spec in REGISTRY.values():
        _register(app, spec.name, spec.max_retries)
    return app


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
    broker = settings.resolved_broker_url
    if not broker:
        raise SystemExit("The Celery worker needs CANTEEN_REDIS_URL")
    return make_celery(broker)


def __getattr__(name: str) -> Any:
    # `celery -A canteen.worker` looks up `app`/`celery`; build it only when asked so
    # importing this module from the API process has no side effects.
    if name in ("app", "celery"):
        return _default_app()
    raise AttributeError(name)
