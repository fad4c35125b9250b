"""The ready SMS, once per order and never lost (issue 13's rule): a database lease and
done mark instead of a claim in Redis taken before sending, and `sms.redrive_ready` for a
job Redis lost. The faults are real: a Redis restarted empty, a Twilio stand-in that
fails or holds a send, a Celery worker killed with SIGKILL mid-send (PostgreSQL run)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from typing import Any

import pytest
import redis
from orders_helpers import order_body, place, seed_menu, set_config
from sqlalchemy import func, select
from test_payments import eventually

from canteen.core.celery_queue import CeleryRunner
from canteen.core.container import Container
from canteen.core.jobs import RetryableJobError
from canteen.core.once import JobMark
from canteen.dev.models import DevOutboxMessage
from canteen.events.models import Event
from canteen.notifications.ready_sms import (
    LEASE_SECONDS,
    done_key,
    redrive_ready_sms,
    sms_order_ready,
)
from canteen.sms.twilio import TwilioSmsProvider
from canteen_testkit.stack import start_celery_worker, wait_worker_ready
from canteen_testkit.standins import TwilioStandIn
from conftest import API, BACKEND, bearer, count_rows, login_customer, login_staff

PHONE = "+919811100077"
SID, TOKEN, SENDER = "AC" + "1" * 32, "twilio-test-token", "+15005550006"


class Floor:
    """The menu, the kitchen's session and signed-in customers (signed in while the
    test's own job runner is healthy: their codes come by SMS jobs)."""

    def __init__(self, client: Any, container: Container) -> None:
        self.client, self.container = client, container
        self.customers: dict[str, dict[str, Any]] = {}

    async def open(self, *phones: str) -> Floor:
        self.menu = await seed_menu(self.container)
        self.kitchen = await login_staff(self.client, self.container, "kitchen", "+919000000201")
        for phone in phones or (PHONE,):
            self.customers[phone] = await login_customer(self.client, self.container, phone)
        return self

    async def ready_order(self, phone: str = PHONE) -> dict[str, Any]:
        """A pickup order of `phone`'s, marked ready by the kitchen."""
        me = self.customers[phone]
        r = await place(self.client, me, order_body((self.menu.dosa, 1)))
        assert r.status_code == 201, r.text
        order: dict[str, Any] = r.json()["data"]
        for status in ("preparing", "ready"):
            r = await self.client.patch(
                f"{API}/admin/orders/{order['id']}/status",
                json={"status": status},
                headers=bearer(self.kitchen),
            )
            assert r.status_code == 200, r.text
        return order

    async def lost_ready_order(
        self, private_redis: Any, phone: str = PHONE, *, texts: bool = True
    ) -> dict[str, Any]:
        """A ready order whose jobs sat in a Redis that then restarted empty (with texts
        off and no device to push to, none was enqueued: issue 20)."""
        healthy = self.container.jobs
        self.container.jobs = CeleryRunner(private_redis.url(1))  # a queue no worker reads
        try:
            order = await self.ready_order(phone)
            await eventually(lambda: dispatched(self.container))
            queued = redis.Redis.from_url(private_redis.url(1)).llen("celery")
            assert queued >= 1 if texts else queued == 0
            private_redis.restart_empty()  # ... and lost
        finally:
            self.container.jobs = healthy
        return order


async def ready_texts(container: Container, phone: str = PHONE) -> list[str]:
    async with container.sessionmaker() as s:
        bodies = await s.scalars(
            select(DevOutboxMessage.body).where(
                DevOutboxMessage.channel == "sms", DevOutboxMessage.to == phone
            )
        )
        return [b for b in bodies if b and "is ready" in b]


async def marks(container: Container, order_id: str) -> set[str]:
    async with container.sessionmaker() as s:
        keys = await s.scalars(select(JobMark.key).where(JobMark.key.like(f"%{order_id}%")))
        return set(keys)


async def dispatched(container: Container) -> bool:
    async with container.sessionmaker() as s:
        pending = await s.scalar(
            select(func.count()).select_from(Event).where(Event.dispatched_at.is_(None))
        )
    return pending == 0


async def test_the_job_run_three_times_at_once_texts_once(client, container):
    await set_config(container, ready_sms_enabled=True)
    order = await (await Floor(client, container).open()).ready_order()
    await eventually(lambda: _count_is(container, 1))  # the dispatcher's own job
    await asyncio.gather(
        *(sms_order_ready(container, order_id=order["id"], event_id=None) for _ in range(3))
    )
    await sms_order_ready(container, order_id=order["id"])
    await container.jobs.drain()
    [text] = await ready_texts(container)
    assert order["number"] in text and order["pickup_code"] in text
    assert await marks(container, order["id"]) == {done_key(order["id"])}  # no lease left


async def _count_is(container: Container, n: int) -> bool:
    await container.jobs.drain()
    return len(await ready_texts(container)) == n


async def ready_redrive_case(client: Any, container: Container, clock: Any, private_redis: Any):
    """The ready text's job was lost with Redis: the sweep texts once, and only within
    its window (used by test_faults_jobs' run-twice guard too)."""
    await set_config(container, ready_sms_enabled=True)
    floor = await Floor(client, container).open()
    order = await floor.lost_ready_order(private_redis)
    await redrive_ready_sms(container)  # too fresh: its job may still be on the way
    assert await ready_texts(container) == []
    clock.advance(61)
    await asyncio.gather(redrive_ready_sms(container), redrive_ready_sms(container))
    await redrive_ready_sms(container)
    [text] = await ready_texts(container)
    assert order["number"] in text
    assert await marks(container, order["id"]) == {done_key(order["id"])}


async def test_a_ready_text_whose_job_redis_lost_is_redriven_once(
    client, container, clock, private_redis
):
    await ready_redrive_case(client, container, clock, private_redis)


async def test_the_sweep_leaves_old_collected_and_switched_off_orders(
    client, container, clock, private_redis
):
    await set_config(container, ready_sms_enabled=True)
    other = "+919811100078"
    floor = await Floor(client, container).open(PHONE, other)
    old = await floor.lost_ready_order(private_redis)
    clock.advance(601)  # turned ready over ten minutes ago: a text now is noise
    await redrive_ready_sms(container)
    assert await ready_texts(container) == []
    assert await marks(container, old["id"]) == set()

    collected = await floor.lost_ready_order(private_redis)
    async with container.sessionmaker() as s, s.begin():
        from canteen.orders.models import Order

        row = await s.get(Order, uuid.UUID(collected["id"]))
        assert row is not None
        row.status = "completed"  # handed over before the sweep came
    clock.advance(61)
    await redrive_ready_sms(container)
    assert await ready_texts(container) == []

    await set_config(container, ready_sms_enabled=False)
    off = await floor.lost_ready_order(private_redis, other, texts=False)
    clock.advance(61)
    await redrive_ready_sms(container)
    assert await ready_texts(container, other) == []
    assert await marks(container, off["id"]) == set()


async def _dead_runs_lease(container: Container, order_id: str) -> None:
    """The lease a worker killed mid-send leaves behind (its text never reached Twilio)."""
    async with container.sessionmaker() as s, s.begin():
        s.add(JobMark(key=done_key(order_id) + ":lease", created_at=container.clock.now()))


async def test_a_dead_runs_lease_is_taken_over_when_it_ends(
    client, container, clock, private_redis
):
    await set_config(container, ready_sms_enabled=True)
    floor = await Floor(client, container).open()
    order = await floor.lost_ready_order(private_redis)
    clock.advance(61)  # the sweep's grace is over
    await _dead_runs_lease(container, order["id"])
    with pytest.raises(RetryableJobError, match="another run is sending"):
        await sms_order_ready(container, order_id=order["id"])
    await redrive_ready_sms(container)  # the sweep, too, waits for the lease to end
    assert await ready_texts(container) == []
    clock.advance(LEASE_SECONDS)
    results = await asyncio.gather(
        sms_order_ready(container, order_id=order["id"]),
        redrive_ready_sms(container),
        return_exceptions=True,
    )
    # The one that lost the race is told to retry (the runner would), and its retry
    # finds the text sent.
    assert all(r is None or isinstance(r, RetryableJobError) for r in results), results
    await sms_order_ready(container, order_id=order["id"])
    assert len(await ready_texts(container)) == 1
    assert await marks(container, order["id"]) == {done_key(order["id"])}


@pytest.fixture
def twilio() -> Any:
    with TwilioStandIn(SID, TOKEN) as standin:
        yield standin


async def test_a_failed_send_gives_the_lease_back_and_the_retry_texts_once(
    client, container, clock, private_redis, twilio
):
    await set_config(container, ready_sms_enabled=True)
    floor = await Floor(client, container).open()
    order = await floor.lost_ready_order(private_redis)
    container._sms = TwilioSmsProvider(SID, TOKEN, from_number=SENDER, base_url=twilio.base_url)
    twilio.fail_next(503, {"code": 20503, "message": "Service unavailable", "status": 503})
    with pytest.raises(RetryableJobError, match="503"):
        await sms_order_ready(container, order_id=order["id"])
    assert await marks(container, order["id"]) == set()  # no mark, lease given back
    assert twilio.messages == []
    await sms_order_ready(container, order_id=order["id"])  # the retry, at once
    await sms_order_ready(container, order_id=order["id"])
    [sent] = twilio.messages
    assert sent.to == PHONE and order["number"] in sent.body
    assert await marks(container, order["id"]) == {done_key(order["id"])}


async def test_a_text_refused_for_good_is_marked_and_not_retried(
    client, container, clock, private_redis, twilio
):
    await set_config(container, ready_sms_enabled=True)
    floor = await Floor(client, container).open()
    order = await floor.lost_ready_order(private_redis)
    container._sms = TwilioSmsProvider(SID, TOKEN, from_number=SENDER, base_url=twilio.base_url)
    twilio.fail_next(400, {"code": 21211, "message": "Invalid 'To' number", "status": 400})
    await sms_order_ready(container, order_id=order["id"])  # logged, not raised
    assert await marks(container, order["id"]) == {done_key(order["id"])}
    clock.advance(61)
    await redrive_ready_sms(container)
    await sms_order_ready(container, order_id=order["id"])
    assert twilio.messages == [] and twilio.request_count == 1


class HoldingTwilio(TwilioStandIn):
    """Holds the first text until released, then drops it unrecorded: the worker sending
    it was killed before Twilio took the message."""

    def __init__(self) -> None:
        super().__init__(SID, TOKEN)
        self.held = threading.Event()
        self.release = threading.Event()

    def _handle(self, request: Any) -> Any:
        if "/Messages.json" in request.path and not self.held.is_set():
            self.held.set()
            self.release.wait(120)
            return 503, {"code": 20503, "message": "gone", "status": 503}, {}
        return super()._handle(request)


@pytest.mark.skipif(BACKEND != "postgres", reason="a Celery worker on PostgreSQL and Redis")
async def test_a_worker_killed_mid_send_texts_once(
    client, container, base_env, private_redis, tmp_path
):
    """kill -9 the worker while Twilio holds its ready text: the job comes back to another
    worker (visibility timeout), waits for the dead run's lease to end and texts, once.
    (With the claim in Redis taken before sending, the text was lost for good.)"""
    await set_config(container, ready_sms_enabled=True)
    visibility = 6
    twilio = HoldingTwilio().start()
    env = {
        **os.environ,
        **base_env,
        "CANTEEN_REDIS_URL": private_redis.url(0),
        "CANTEEN_CELERY_BROKER_URL": private_redis.url(1),
        "CANTEEN_JOB_VISIBILITY_TIMEOUT_SECONDS": str(visibility),
        "CANTEEN_SMS_PROVIDER": "twilio",
        "CANTEEN_TWILIO_ACCOUNT_SID": SID,
        "CANTEEN_TWILIO_AUTH_TOKEN": TOKEN,
        "CANTEEN_TWILIO_FROM_NUMBER": SENDER,
        "CANTEEN_TWILIO_BASE_URL": twilio.base_url,
    }
    log_path = tmp_path / "worker.log"
    log_path.write_bytes(b"")
    first = start_celery_worker(env, log_path, "--without-heartbeat")
    second: subprocess.Popen[bytes] | None = None
    healthy = container.jobs
    try:
        floor = await Floor(client, container).open()
        await asyncio.to_thread(wait_worker_ready, first, log_path, 0)
        container.jobs = CeleryRunner(private_redis.url(1))
        order = await floor.ready_order()
        deadline = time.monotonic() + 60
        while not twilio.held.is_set():  # the first worker is inside the send
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            await asyncio.sleep(0.1)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        twilio.release.set()
        assert await marks(container, order["id"]) == {done_key(order["id"]) + ":lease"}

        second = start_celery_worker(env, log_path, "--without-heartbeat")
        await asyncio.to_thread(wait_worker_ready, second, log_path, 1)

        async def texted() -> bool:
            return len(twilio.messages) >= 1

        await eventually(texted, timeout=LEASE_SECONDS + visibility + 60)
        await asyncio.sleep(2)  # a second text would arrive now
        [sent] = twilio.messages
        assert sent.to == PHONE and order["number"] in sent.body
        assert await marks(container, order["id"]) == {done_key(order["id"])}
        # Nothing else queues the text (no beat, no sweep here): the dead worker's job was
        # handed to the second worker.
        received = re.findall(
            r"Task sms\.order_ready\[([0-9a-f-]+)\] received", log_path.read_text()
        )
        assert len(received) >= 2 and received.count(received[0]) >= 2, received
    finally:
        container.jobs = healthy
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        twilio.release.set()
        twilio.stop()
    assert await count_rows(container, DevOutboxMessage) == 1  # the sign-in code only
