"""The API publishes jobs without Celery (canteen.core.celery_queue): what it puts in
Redis must be what Celery's own `send_task` puts there, or the workers would not read it.

This compares the two entries field by field on a private Redis, so a Celery or kombu
upgrade that changes the message shows here. The workers reading it is shown by every
job test on the PostgreSQL run (a real worker; a killed worker's job redelivered, the
trace continued in test_tracing.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
import redis

from canteen.core.celery_queue import QUEUE, CeleryRunner
from canteen.core.jobs import celery_app

# Fresh per message, or per process: compared by shape, not by value.
_PER_MESSAGE_HEADERS = {"id", "root_id", "origin"}
_PER_MESSAGE_PROPERTIES = {"correlation_id", "reply_to", "delivery_tag"}
# Ours on purpose: no result is kept (the app's task_ignore_result), and the values of a
# job's arguments (a phone number, an SMS) stay out of the header monitors show.
_OURS = {"ignore_result": True, "kwargsrepr": "{'to': ..., 'body': ...}"}


def _entries(url: str) -> tuple[list[bytes], set[bytes]]:
    client = redis.Redis.from_url(url)
    try:
        keys = {k for k in client.keys("*") if not k.startswith(b"_kombu.binding")}
        return client.lrange(QUEUE, 0, -1), keys
    finally:
        client.close()


def _decoded(raw: bytes) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(raw)
    message["body"] = json.loads(base64.b64decode(message["body"]))
    return message


async def test_a_job_is_queued_as_celerys_send_task_queues_it(private_redis):
    kwargs = {"to": "+919812345678", "body": "Your code is 123456"}
    ours, celerys = private_redis.url(1), private_redis.url(2)
    runner = CeleryRunner(ours)
    await runner.enqueue("sms.send", **kwargs)
    await runner.drain()
    celery_app(celerys).send_task("sms.send", kwargs=kwargs)

    (mine,), my_keys = _entries(ours)
    (theirs,), their_keys = _entries(celerys)
    assert my_keys == their_keys == {QUEUE.encode()}
    a, b = _decoded(mine), _decoded(theirs)
    assert a["body"] == b["body"] == [[], kwargs, b["body"][2]]
    assert a.keys() == b.keys()
    for field in ("content-encoding", "content-type"):
        assert a[field] == b[field]

    assert a["headers"].keys() == b["headers"].keys()
    assert a["headers"]["id"] == a["headers"]["root_id"] == a["properties"]["correlation_id"]
    for key, theirs_value in b["headers"].items():
        if key in _OURS:
            assert a["headers"][key] == _OURS[key]
        elif key not in _PER_MESSAGE_HEADERS:
            assert a["headers"][key] == theirs_value, key

    assert a["properties"].keys() == b["properties"].keys()
    for key, theirs_value in b["properties"].items():
        if key not in _PER_MESSAGE_PROPERTIES:
            assert a["properties"][key] == theirs_value, key


def test_the_queue_is_the_workers_default_queue():
    assert celery_app("redis://127.0.0.1:9/0").conf.task_default_queue == QUEUE


@pytest.mark.parametrize("value", [dt.datetime(2026, 12, 7), {"nested": 1}, b"raw"])
async def test_a_job_takes_plain_values_only(private_redis, value):
    """Celery's JSON would hand the worker something other than what the in-process runner
    hands the job; a job's arguments are plain values, and a mistake fails loudly."""
    url = private_redis.url(1)
    runner = CeleryRunner(url)
    with pytest.raises(TypeError, match="order_id must be a plain JSON value"):
        await runner.enqueue("push.order_status", event_id="e1", order_id=value)
    await runner.drain()
    assert _entries(url) == ([], set())
