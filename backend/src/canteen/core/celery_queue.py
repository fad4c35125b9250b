"""Handing a job to the Celery workers from an API process: one LPUSH, on the event loop.

An API process only publishes; the workers (`canteen.worker`) run Celery itself. Celery's
`send_task` is blocking, so it ran in a thread, and for a Redis broker it cost about
490 µs of CPU per job measured alone, and more in a busy API process: a new Redis client
object per publish inside kombu, the exchange declaration check, Celery's option
handling, and the thread hop, whose thread contends with the event loop for the
interpreter. What it finally sent is one LPUSH of a JSON message to the queue's list.
That message is written here, on the API's own asyncio Redis client: Celery's task
message protocol 2 (task name and id in the headers; a body of `[args, kwargs, embed]`)
in kombu's Redis envelope (the body base64, the delivery tag and the routing in
`properties`), as `send_task` writes it for a task with no options on the default queue.
The workers read it as they read Celery's own: every job test on the PostgreSQL run goes
through a real worker this way.

Kept from `send_task`: a broker that is down or hung fails the publish within a second
(the request answers 503; see `canteen.core.errors`), one retry on a dropped connection,
and with tracing on, the request's trace in the headers for the worker to continue.
"""

from __future__ import annotations

import base64
import os
import socket
import uuid
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

# Celery's default queue, on kombu's Redis transport a list of that name (priority 0).
QUEUE = "celery"
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
_SCALARS = (str, int, float, bool, type(None))


def check_job_kwargs(name: str, kwargs: dict[str, Any]) -> None:
    # The in-process runner hands the job the very objects it was given, the queue their
    # JSON: a datetime or UUID would reach a worker as something else. So both runners
    # take plain values only, and a mistake fails on the embedded default too.
    for key, value in kwargs.items():
        if not isinstance(value, _SCALARS):
            raise TypeError(f"job {name}: {key} must be a plain JSON value, not {type(value)}")


def task_message(
    name: str, kwargs: dict[str, Any], *, origin: str, reply_to: str, trace: dict[str, str]
) -> bytes:
    """The queue entry Celery's `send_task(name, kwargs=kwargs)` puts in Redis."""
    check_job_kwargs(name, kwargs)
    task_id = str(uuid.uuid4())
    body = orjson.dumps([[], kwargs, _EMBED])
    headers: dict[str, Any] = {
        "lang": "py",
        "task": name,
        "id": task_id,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": task_id,
        "parent_id": None,
        "argsrepr": "()",
        # The names only: a job's values (a phone number, an SMS text) stay out of logs
        # and monitors that show this header.
        "kwargsrepr": "{" + ", ".join(f"{key!r}: ..." for key in kwargs) + "}",
        "origin": origin,
        "ignore_result": True,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
        **trace,
    }
    return orjson.dumps(
        {
            "body": base64.b64encode(body).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": headers,
            "properties": {
                "correlation_id": task_id,
                "reply_to": reply_to,
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": QUEUE},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )


def _trace_headers() -> dict[str, str]:
    """The current trace for the worker (W3C `traceparent`); the worker's Celery
    instrumentation continues it, as it does for what `send_task` publishes."""
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


class CeleryRunner:
    """The job runner with Redis: publishes jobs to the Celery workers' queue."""

    def __init__(self, broker_url: str, *, traced: bool = False) -> None:
        self._redis = Redis.from_url(
            broker_url,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
            # One more try on a connection Redis dropped (a restart); a timeout is final.
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        self._origin = f"{os.getpid()}@{socket.gethostname()}"
        self._reply_to = str(uuid.uuid4())
        self._traced = traced  # tracing is on (canteen.observability.tracing)

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        trace = _trace_headers() if self._traced else {}
        message = task_message(
            name, kwargs, origin=self._origin, reply_to=self._reply_to, trace=trace
        )
        await self._redis.lpush(QUEUE, message)

    async def drain(self) -> None:
        # Nothing waits in this process; the pool reconnects if the runner is used again.
        await self._redis.connection_pool.disconnect()
