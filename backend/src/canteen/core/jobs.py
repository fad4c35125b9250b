"""Background jobs: one registry of async task functions, two runners.

On the embedded default jobs run in this process (asyncio tasks with retries); with
Redis they go to Celery (`canteen.worker`), which runs the very same functions; the
API's runner for that publishes without Celery (`canteen.core.celery_queue.CeleryRunner`).
Jobs must be safe to run twice: both runners retry on failure, and Celery hands a killed
worker's job to another worker (tests/api/test_faults_jobs.py runs each job twice).
Jobs that move money or tell someone something (refunds, pushes, the ready SMS, kitchen
tickets) are re-driven from the database by the sweeps below, so a job that Redis lost
is done anyway (docs/payments.md, docs/operations.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from canteen.core.celery_queue import check_job_kwargs

if TYPE_CHECKING:
    from celery import Celery

    from canteen.core.container import Container

log = logging.getLogger("canteen.jobs")

JobFunc = Callable[..., Awaitable[None]]


class RetryableJobError(Exception):
    """Raised by a job for a transient failure that is worth retrying."""


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: JobFunc
    max_retries: int


REGISTRY: dict[str, JobSpec] = {}

# Periodic sweeps: job name -> seconds between runs (Celery beat, or the in-process loop).
PERIODIC: dict[str, float] = {
    "payments.expire_unpaid": 30.0,
    "payments.apply_stored_webhooks": 30.0,
    "payments.redrive_refunds": 60.0,
    "push.redrive": 60.0,
    "sms.redrive_ready": 60.0,
    "printing.redrive_tickets": 60.0,
    "menu.daily_stock_reset": 300.0,
    "orders.sweep_not_collected": 30.0,
    "push.collection_reminders": 30.0,
    "kitchen.reestimate": 60.0,
    "reports.rollup_days": 3600.0,
}


def job(name: str, *, max_retries: int = 5) -> Callable[[JobFunc], JobFunc]:
    """Register `async def fn(container, **kwargs)` under a stable task name."""

    def register(func: JobFunc) -> JobFunc:
        REGISTRY[name] = JobSpec(name, func, max_retries)
        return func

    return register


class JobRunner(Protocol):
    async def enqueue(self, name: str, **kwargs: Any) -> None: ...
    async def drain(self) -> None: ...


def backoff_seconds(attempt: int) -> float:
    # Capped below the broker's visibility timeout: Celery holds a retry unacked until
    # its countdown ends, and one held longer would be handed out twice.
    return float(min(30, 2**attempt))


class InProcessRunner:
    def __init__(self, container: Container, *, base_delay: float = 1.0) -> None:
        self.container = container
        self.base_delay = base_delay
        self._tasks: set[asyncio.Task[None]] = set()

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        check_job_kwargs(name, kwargs)
        spec = REGISTRY[name]
        task = asyncio.create_task(self._run(spec, kwargs), name=f"job:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, spec: JobSpec, kwargs: dict[str, Any]) -> None:
        for attempt in range(spec.max_retries + 1):
            try:
                await spec.func(self.container, **kwargs)
                return
            except RetryableJobError as exc:
                if attempt == spec.max_retries:
                    log.error("job %s gave up after %d tries: %s", spec.name, attempt + 1, exc)
                    return
                await asyncio.sleep(self.base_delay * backoff_seconds(attempt))
            except Exception:
                log.exception("job %s failed permanently", spec.name)
                return

    async def drain(self) -> None:
        """Wait for every job enqueued so far (tests and graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def celery_app(broker_url: str, *, visibility_timeout: int = 60) -> Celery:
    """The workers' Celery app (`canteen.worker.make_celery` adds the worker's steps and
    the task bodies; API processes publish without it, `canteen.core.celery_queue`).
    Jobs are acknowledged after they ran (`task_acks_late`), so a job taken by a worker
    that is killed stays in Redis's unacked set and goes to another worker once
    `visibility_timeout` seconds have passed (Celery's Redis default is an hour). Each
    worker takes one job at a time (prefetch 1), so a dead worker holds back only that
    one. Every job is safe to run twice, which this redelivery requires."""
    from celery import Celery  # only processes that use Celery pay for importing it

    app = Celery("canteen", broker=broker_url)
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": visibility_timeout},
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule={name: {"task": name, "schedule": every} for name, every in PERIODIC.items()},
    )
    app.conf.canteen_restore_every = max(1.0, visibility_timeout / 4)
    return app
