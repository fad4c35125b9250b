"""Faults and jobs (issue 13, points 6-9, and the timed-out payment of point 11).

The faults are real: a private redis-server that a test stops, freezes or restarts empty;
a Celery worker process killed with SIGKILL; a database that refuses a write through a
temporary trigger. Each test checks that nothing was lost, left stuck or done twice.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio
import redis
from live import serve
from orders_helpers import order_body, place, register_device, seed_menu, set_config
from sqlalchemy import func, select, text
from test_eta import eta_push_twice_case, reestimate_twice_case
from test_no_shows import reminder_once_case, sweeps_race_case
from test_payments import _events, _order, _upi_order, eventually, sandbox_pay, webhooks_to
from test_printing import print_twice_case, printer
from test_printing_once import ticket_redrive_case
from test_ready_sms_once import ready_redrive_case
from test_reports_rollup import rollup_twice_case

from canteen.app import create_app
from canteen.bootstrap import build_container, load_jobs
from canteen.core.celery_queue import CeleryRunner
from canteen.core.container import Container
from canteen.core.jobs import PERIODIC, REGISTRY
from canteen.dev.models import DevOutboxMessage
from canteen.menu.models import MenuItem
from canteen.menu.tasks import daily_stock_reset
from canteen.notifications.ready_sms import sms_order_ready
from canteen.notifications.tasks import push_order_status
from canteen.orders.models import Order
from canteen.payments.models import Payment, Refund, WebhookEvent
from canteen.payments.tasks import (
    apply_stored_webhooks,
    expire_unpaid,
    process_webhook,
    redrive_refunds,
    refund_order,
)
from canteen.settings import Settings
from canteen.sms.tasks import send_sms
from canteen.worker import make_celery
from canteen_testkit.redis_server import PrivateRedis
from canteen_testkit.stack import start_celery_worker, wait_worker_ready
from conftest import (
    API,
    BACKEND,
    assert_error,
    bearer,
    count_rows,
    login_customer,
    login_staff,
    make_settings,
)

__all__ = ["printer", "webhooks_to"]  # fixtures used here, defined with their tests

WEBHOOK_PATH = f"{API}/payments/webhooks/razorpay"


@pytest_asyncio.fixture
async def redis_app(
    base_env: dict[str, str], settings: Settings, clean: None, private_redis: PrivateRedis
) -> AsyncIterator[tuple[Container, httpx.AsyncClient]]:
    """An API on the test database whose Redis is the private one (jobs in process, so
    sign-in texts arrive without a worker)."""
    s = make_settings(base_env, redis_url=private_redis.url(0), job_runner="inprocess")
    c = build_container(s)
    await c.start()
    app = create_app(s, container=c)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
        yield c, ac
    private_redis.thaw()
    await c.close()


# ---- point 9: Redis down answers 503 ---------------------------------------------------


def _assert_unavailable(r: httpx.Response) -> None:
    err = assert_error(r, 503, "SERVICE_UNAVAILABLE")
    assert int(r.headers["Retry-After"]) > 0
    assert err["details"] == [{"service": "redis", "issue": "unreachable"}]
    assert "Traceback" not in r.text and "127.0.0.1" not in r.text


async def test_redis_down_answers_503_and_nothing_is_lost(redis_app, private_redis):
    c, client = redis_app
    m = await seed_menu(c)
    me = await login_customer(client, c)
    key = str(uuid.uuid4())
    body = order_body((m.dosa, 1))

    private_redis.stop()
    r = await client.post(f"{API}/auth/request-otp", json={"phone": "+919812345678"})
    _assert_unavailable(r)
    r = await place(client, me, body, key)  # the idempotency key lives in Redis
    _assert_unavailable(r)
    r = await client.post(f"{API}/auth/refresh", json={"refresh_token": me["refresh_token"]})
    _assert_unavailable(r)
    assert await count_rows(c, Order) == 0
    r = await client.get("/readyz")
    err = assert_error(r, 503, "SERVICE_UNAVAILABLE")
    assert "redis unreachable" in err["message"]
    assert {"check": "redis", "status": "unreachable"} in err["details"]
    assert {"check": "database", "status": "ok"} in err["details"]

    # Redis is back, empty (no persistence): the same key places the order once.
    private_redis.start()
    r = await place(client, me, body, key)
    assert r.status_code == 201, r.text
    r = await place(client, me, body, key)
    assert r.status_code == 200 and r.json()["data"]["id"]
    assert await count_rows(c, Order) == 1
    assert (await client.get("/readyz")).status_code == 200


async def test_a_hung_redis_answers_503_quickly(redis_app, private_redis):
    """A frozen Redis accepts connections and never answers: short client timeouts turn
    that into a quick 503 instead of a request hanging (it took 10 s before)."""
    _, client = redis_app
    private_redis.freeze()
    started = time.monotonic()
    r = await client.post(f"{API}/auth/request-otp", json={"phone": "+919812345678"})
    elapsed = time.monotonic() - started
    _assert_unavailable(r)
    assert elapsed < 5, f"answered after {elapsed:.1f} s"
    private_redis.thaw()
    r = await client.post(f"{API}/auth/request-otp", json={"phone": "+919812345678"})
    assert r.status_code == 200, r.text


# ---- point 8: a failed placement frees its idempotency key at once ------------------


async def _inject(container: Container, statements: list[str]) -> None:
    async with container.engine.begin() as conn:
        for sql in statements:
            await conn.execute(text(sql))


def _refuse_payment_rows() -> tuple[list[str], list[str]]:
    """A trigger that makes the database refuse every new payment row."""
    if BACKEND == "postgres":
        return (
            [
                "CREATE OR REPLACE FUNCTION fault_refuse() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$",
                "CREATE TRIGGER fault_refuse_payments BEFORE INSERT ON payments "
                "FOR EACH ROW EXECUTE FUNCTION fault_refuse()",
            ],
            [
                "DROP TRIGGER IF EXISTS fault_refuse_payments ON payments",
                "DROP FUNCTION IF EXISTS fault_refuse()",
            ],
        )
    return (
        [
            "CREATE TRIGGER fault_refuse_payments BEFORE INSERT ON payments "
            "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
        ],
        ["DROP TRIGGER IF EXISTS fault_refuse_payments"],
    )


async def test_a_database_error_after_the_order_commit_frees_the_key(client, container):
    """The order commits, then the database refuses the payment row: the answer is 500,
    and the retry with the same key gets the order (once) instead of 409 for a minute."""
    m = await seed_menu(container)
    me = await login_customer(client, container)
    key = str(uuid.uuid4())
    body = order_body((m.dosa, 1), payment_method="upi")
    create, drop = _refuse_payment_rows()
    await _inject(container, create)
    try:
        r = await place(client, me, body, key)
        assert_error(r, 500, "INTERNAL_ERROR")
    finally:
        await _inject(container, drop)
    r = await place(client, me, body, key)
    assert r.status_code == 200, r.text  # the order the failed request committed
    order = r.json()["data"]
    assert await count_rows(container, Order) == 1
    r = await client.post(f"{API}/orders/{order['id']}/payment/retry", headers=bearer(me))
    assert r.status_code == 200, r.text
    assert r.json()["data"]["payment"]["gateway_order_id"]
    assert await count_rows(container, Payment) == 1


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite has no deferred triggers")
async def test_a_refused_commit_frees_the_key_and_the_retry_places_once(client, container):
    """A constraint trigger that fails at COMMIT: the placement itself succeeded, the
    commit did not. The retry with the same key places the order, once."""
    m = await seed_menu(container)
    me = await login_customer(client, container)
    key = str(uuid.uuid4())
    body = order_body((m.dosa, 1))
    await _inject(
        container,
        [
            "CREATE OR REPLACE FUNCTION fault_refuse() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$",
            "CREATE CONSTRAINT TRIGGER fault_refuse_orders AFTER INSERT ON orders "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fault_refuse()",
        ],
    )
    try:
        r = await place(client, me, body, key)
        assert_error(r, 500, "INTERNAL_ERROR")
    finally:
        await _inject(
            container,
            [
                "DROP TRIGGER IF EXISTS fault_refuse_orders ON orders",
                "DROP FUNCTION IF EXISTS fault_refuse()",
            ],
        )
    assert await count_rows(container, Order) == 0
    r = await place(client, me, body, key)
    assert r.status_code == 201, r.text
    r = await place(client, me, body, key)
    assert r.status_code == 200, r.text
    assert await count_rows(container, Order) == 1


# ---- point 6: stored webhooks are applied even when their job is lost ---------------


async def _webhook_rows(container: Container) -> list[WebhookEvent]:
    async with container.sessionmaker() as s:
        return list(await s.scalars(select(WebhookEvent)))


@pytest.mark.parametrize("fault", ["stopped", "frozen"])
async def test_webhooks_are_applied_while_the_job_queue_is_down(
    app, client, container, razorpay_sandbox, webhooks_to, private_redis, fault
):
    """Redis (the job queue) is down or hung when the gateway delivers: the webhook is
    stored and applied within the gateway's 5 s, not answered 500 and then `duplicate`
    for every retry."""
    me, order = await _upi_order(client, container)
    healthy = container.jobs
    container.jobs = CeleryRunner(private_redis.url(1))
    await container.jobs.enqueue("payments.apply_stored_webhooks")  # a live connection
    if fault == "stopped":
        private_redis.stop()
    else:
        private_redis.freeze()
    try:
        async with serve(app) as host:
            webhooks_to(host)
            sandbox_pay(razorpay_sandbox, order["payment"]["gateway_order_id"], "success")

            async def all_applied() -> bool:
                rows = await _webhook_rows(container)
                return len(rows) >= 3 and all(row.processed_at for row in rows)

            await eventually(all_applied)
    finally:
        container.jobs = healthy
        private_redis.thaw()
    final = await _order(client, me, order["id"])
    assert final["status"] == "confirmed" and final["payment_status"] == "captured"
    assert await _events(container, order["id"]) == [
        ("order.created", "received"),
        ("order.status_changed", "confirmed"),
    ]
    # Answered 2xx at the first attempt: stored is safe, the gateway need not retry.
    to_us = [a for a in razorpay_sandbox.sandbox.webhook_attempts if host in a.url]
    assert to_us and all(a.ok for a in to_us), [(a.event, a.status_code) for a in to_us]


def _captured_event(razorpay_sandbox: Any, gateway_order_id: str) -> Any:
    for event in razorpay_sandbox.sandbox.events:
        entity = event.payload["payload"]["payment"]["entity"]
        if event.event == "payment.captured" and entity["order_id"] == gateway_order_id:
            return event
    raise AssertionError("the sandbox emitted no payment.captured")


async def _store_unapplied(container: Container, event: Any, received_ago: float = 0) -> None:
    """The row a process leaves when it stored the webhook and died (or lost Redis)
    before its job was queued."""
    async with container.sessionmaker() as s, s.begin():
        s.add(
            WebhookEvent(
                id=event.id,
                gateway="razorpay",
                event=event.event,
                payload=event.payload,
                received_at=container.clock.now() - timedelta(seconds=received_ago),
            )
        )


async def _deliver(client: httpx.AsyncClient, event: Any) -> httpx.Response:
    return await client.post(
        WEBHOOK_PATH,
        content=event.body,
        headers={
            "Content-Type": "application/json",
            "X-Razorpay-Signature": event.signature,
            "x-razorpay-event-id": event.id,
        },
    )


async def test_a_redelivered_webhook_that_was_never_applied_is_applied(
    client, container, razorpay_sandbox
):
    me, order = await _upi_order(client, container)
    gw = order["payment"]["gateway_order_id"]
    sandbox_pay(razorpay_sandbox, gw, "success")  # no webhook URL: nothing delivered yet
    event = _captured_event(razorpay_sandbox, gw)
    await _store_unapplied(container, event)

    r = await _deliver(client, event)  # the gateway's retry
    assert r.status_code == 200 and r.json()["data"] == {"received": True, "duplicate": True}

    async def confirmed() -> bool:
        await container.jobs.drain()
        return (await _order(client, me, order["id"]))["status"] == "confirmed"

    await eventually(confirmed)
    r = await _deliver(client, event)
    assert r.json()["data"] == {"received": True, "duplicate": True}
    await container.jobs.drain()
    await asyncio.sleep(0.5)  # a second application would show as a second event
    assert await _events(container, order["id"]) == [
        ("order.created", "received"),
        ("order.status_changed", "confirmed"),
    ]
    (row,) = await _webhook_rows(container)
    assert row.processed_at is not None and row.outcome == "captured; order confirmed"


async def test_the_sweep_applies_stored_webhooks_once_under_concurrency(
    client, container, razorpay_sandbox, clock
):
    m = await seed_menu(container)
    me, old = await _upi_order(client, container, m=m)
    _, new = await _upi_order(client, container, me=me, m=m)
    for o in (old, new):
        sandbox_pay(razorpay_sandbox, o["payment"]["gateway_order_id"], "success")
    old_event = _captured_event(razorpay_sandbox, old["payment"]["gateway_order_id"])
    new_event = _captured_event(razorpay_sandbox, new["payment"]["gateway_order_id"])
    await _store_unapplied(container, old_event, received_ago=90)
    await _store_unapplied(container, new_event)

    # Several sweeps (API processes, beat) and the event's own job, all at once.
    await asyncio.gather(
        *(apply_stored_webhooks(container) for _ in range(4)),
        process_webhook(container, event_id=old_event.id),
    )
    assert (await _order(client, me, old["id"]))["status"] == "confirmed"
    assert await _events(container, old["id"]) == [
        ("order.created", "received"),
        ("order.status_changed", "confirmed"),
    ]
    # Less than a minute old: its own job may still be on the way, the sweep waits.
    assert (await _order(client, me, new["id"]))["status"] == "received"

    clock.advance(61)
    await asyncio.gather(*(apply_stored_webhooks(container) for _ in range(3)))
    assert await _events(container, new["id"]) == [
        ("order.created", "received"),
        ("order.status_changed", "confirmed"),
    ]
    assert all(row.processed_at for row in await _webhook_rows(container))


# ---- point 7: Celery settings, every job safe to run twice, a killed worker ---------


def test_celery_redelivers_a_dead_workers_job_within_seconds():
    app = make_celery("redis://127.0.0.1:9/0", visibility_timeout=42)
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == 42
    # The default suits jobs of seconds: above their longest run and retry countdown.
    assert 30 < Settings().job_visibility_timeout_seconds <= 60
    for sweep in ("payments.apply_stored_webhooks", "payments.redrive_refunds"):
        assert sweep in PERIODIC and conf.beat_schedule[sweep]["task"] == sweep


# Every registered job and the test below that runs it twice (a new job needs one).
TWICE = {
    "sms.send": "test_sms_send_twice_texts_once",
    "push.order_status": "test_push_twice_notifies_once",
    "menu.daily_stock_reset": "test_daily_stock_reset_twice_refills_once",
    "payments.process_webhook": "test_the_sweep_applies_stored_webhooks_once_under_concurrency",
    "payments.refund_order": "test_refund_order_twice_refunds_once",
    "payments.expire_unpaid": "test_timed_out_upi_order_shows_payment_failed",
    "payments.apply_stored_webhooks": "test_the_sweep_applies_stored_webhooks_once_under_concurrency",
    "payments.redrive_refunds": "test_a_refund_whose_job_redis_lost_is_redriven_once",
    "sms.order_ready": "test_ready_sms_twice_texts_once",
    "push.redrive": "test_a_push_whose_job_redis_lost_is_redriven_once",
    "printing.print_ticket": "test_print_ticket_twice_prints_once",
    "orders.sweep_not_collected": "test_not_collected_sweep_twice_moves_once",
    "push.collection_reminders": "test_collection_reminders_twice_remind_once",
    "reports.rollup_days": "test_rollup_days_twice_writes_once",
    "sms.redrive_ready": "test_ready_sms_redrive_twice_texts_once",
    "printing.redrive_tickets": "test_ticket_redrive_twice_prints_once",
    "kitchen.reestimate": "test_reestimate_twice_moves_once",
    "push.order_eta": "test_eta_push_twice_notifies_once",
}


def test_every_job_is_run_twice_by_a_test():
    load_jobs()  # every job the worker knows, whichever test files ran before this one
    missing = sorted(set(REGISTRY) - set(TWICE))
    assert not missing, f"jobs without a run-twice test in {__name__}: {missing}"
    for name in TWICE.values():
        assert callable(globals().get(name)), name


async def test_print_ticket_twice_prints_once(client, container, printer):
    await print_twice_case(client, container, printer)


async def test_ticket_redrive_twice_prints_once(client, container, clock, private_redis, printer):
    await ticket_redrive_case(client, container, clock, private_redis, printer)  # 3 sweeps


async def test_ready_sms_redrive_twice_texts_once(client, container, clock, private_redis):
    await ready_redrive_case(client, container, clock, private_redis)  # 3 sweeps, one text


async def test_not_collected_sweep_twice_moves_once(client, container, clock):
    await sweeps_race_case(client, container, clock)  # two sweeps at once, then checks


async def test_collection_reminders_twice_remind_once(client, container, clock):
    await reminder_once_case(client, container, clock)  # three runs, one reminder


async def test_eta_push_twice_notifies_once(client, container, clock):
    await eta_push_twice_case(client, container, clock)  # twice, then twice at once


async def test_reestimate_twice_moves_once(client, container, clock):
    await reestimate_twice_case(client, container, clock)  # twice, then twice at once


async def test_rollup_days_twice_writes_once(client, container, clock):
    await rollup_twice_case(client, container, clock)  # twice, then twice at once


async def test_sms_send_twice_texts_once(container):
    phone, text_ = "+919811122233", "123456 is your Canteen sign-in code."
    await send_sms(container, to=phone, body=text_)
    await send_sms(container, to=phone, body=text_)
    async with container.sessionmaker() as s:
        sent = await s.scalar(
            select(func.count())
            .select_from(DevOutboxMessage)
            .where(DevOutboxMessage.channel == "sms", DevOutboxMessage.to == phone)
        )
    assert sent == 1
    await send_sms(container, to=phone, body="654321 is your Canteen sign-in code.")
    assert await count_rows(container, DevOutboxMessage) == 2  # a new code is a new text


async def test_ready_sms_twice_texts_once(client, container):
    m = await seed_menu(container)
    await set_config(container, ready_sms_enabled=True)
    me = await login_customer(client, container, "+919811100011")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    event_id = str(uuid.uuid4())
    for _ in range(2):
        await sms_order_ready(container, event_id=event_id, order_id=order["id"])
    async with container.sessionmaker() as s:
        texts = list(
            await s.scalars(
                select(DevOutboxMessage.body).where(
                    DevOutboxMessage.channel == "sms", DevOutboxMessage.to == "+919811100011"
                )
            )
        )
    assert len([t for t in texts if t and order["number"] in t]) == 1, texts


async def test_push_twice_notifies_once(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    token = await register_device(client, me)
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    event_id = str(uuid.uuid4())
    for _ in range(2):
        await push_order_status(
            container,
            event_id=event_id,
            order_id=order["id"],
            order_number=order["number"],
            status="ready",
        )
    async with container.sessionmaker() as s:
        pushes = list(
            await s.scalars(
                select(DevOutboxMessage).where(
                    DevOutboxMessage.channel == "push", DevOutboxMessage.to == token
                )
            )
        )
    ready = [p for p in pushes if (p.payload or {}).get("data", {}).get("status") == "ready"]
    assert len(ready) == 1, [p.payload for p in pushes]


async def test_a_push_whose_job_redis_lost_is_redriven_once(
    client, container, clock, private_redis
):
    """The push job for "preparing" sat in a Redis that restarted empty: the student is
    still notified, by the re-drive sweep, once."""
    from canteen.events.models import Event
    from canteen.notifications.tasks import redrive_pushes

    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    token = await register_device(client, me)
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]

    async def pushes(status: str) -> int:
        async with container.sessionmaker() as s:
            rows = await s.scalars(
                select(DevOutboxMessage).where(
                    DevOutboxMessage.channel == "push", DevOutboxMessage.to == token
                )
            )
            return sum(1 for p in rows if (p.payload or {}).get("data", {}).get("status") == status)

    healthy = container.jobs
    container.jobs = CeleryRunner(private_redis.url(1))  # a queue no worker reads
    try:
        r = await client.patch(
            f"{API}/admin/orders/{order['id']}/status",
            json={"status": "preparing"},
            headers=bearer(kitchen),
        )
        assert r.status_code == 200, r.text

        async def dispatched() -> bool:
            async with container.sessionmaker() as s:
                pending = await s.scalar(
                    select(func.count()).select_from(Event).where(Event.dispatched_at.is_(None))
                )
            return pending == 0

        await eventually(dispatched)
        private_redis.restart_empty()  # the queued push is lost
    finally:
        container.jobs = healthy
    await redrive_pushes(container)  # too fresh: its job may still be on the way
    assert await pushes("preparing") == 0
    clock.advance(61)
    await asyncio.gather(redrive_pushes(container), redrive_pushes(container))
    await redrive_pushes(container)
    assert await pushes("preparing") == 1


async def test_daily_stock_reset_twice_refills_once(client, container):
    m = await seed_menu(container, samosa_stock=10)
    me = await login_customer(client, container)

    async def left() -> int:
        async with container.sessionmaker() as s:
            return int(
                await s.scalar(select(MenuItem.stock_remaining).where(MenuItem.id == m.samosa))
            )

    assert (await place(client, me, order_body((m.samosa, 2)))).status_code == 201
    await daily_stock_reset(container)
    assert await left() == 10
    assert (await place(client, me, order_body((m.samosa, 1)))).status_code == 201
    await daily_stock_reset(container)  # the same canteen day: no second refill
    assert await left() == 9


async def _paid_order(
    client: Any, container: Container, razorpay_sandbox: Any
) -> tuple[Any, Any, Any]:
    me, order = await _upi_order(client, container)
    paid = sandbox_pay(razorpay_sandbox, order["payment"]["gateway_order_id"], "success")
    r = await client.post(
        f"{API}/payments/verify", json={"order_id": order["id"], **paid}, headers=bearer(me)
    )
    assert r.json()["data"]["status"] == "confirmed", r.text
    return me, order, paid


def _gateway_refunds(razorpay_sandbox: Any, payment_id: str) -> list[dict[str, Any]]:
    with razorpay_sandbox.sandbox._lock:
        return [
            r for r in razorpay_sandbox.sandbox._refunds.values() if r["payment_id"] == payment_id
        ]


async def _refund_sent(container: Container) -> bool:
    async with container.sessionmaker() as s:
        rows = list(await s.scalars(select(Refund)))
    return len(rows) == 1 and rows[0].gateway_refund_id is not None


async def test_refund_order_twice_refunds_once(client, container, razorpay_sandbox):
    me, order, paid = await _paid_order(client, container, razorpay_sandbox)
    r = await client.post(f"{API}/orders/{order['id']}/cancel", json={}, headers=bearer(me))
    assert r.status_code == 200, r.text
    # The dispatcher queues the refund job too: three runs race.
    await asyncio.gather(
        refund_order(container, order_id=order["id"], reason="test"),
        refund_order(container, order_id=order["id"], reason="test"),
    )
    await eventually(lambda: _refund_sent(container))
    await container.jobs.drain()
    assert await count_rows(container, Refund) == 1
    refunds = _gateway_refunds(razorpay_sandbox, paid["razorpay_payment_id"])
    assert [r["amount"] for r in refunds] == [order["total"]]


async def test_a_refund_whose_job_redis_lost_is_redriven_once(
    client, container, razorpay_sandbox, clock, private_redis
):
    """The refund job sat in a Redis that restarted without persistence: the money is
    still returned, by the re-drive sweep, once."""
    from canteen.events.models import Event

    me, order, paid = await _paid_order(client, container, razorpay_sandbox)
    healthy = container.jobs
    container.jobs = CeleryRunner(private_redis.url(1))  # a queue no worker reads
    try:
        r = await client.post(f"{API}/orders/{order['id']}/cancel", json={}, headers=bearer(me))
        assert r.status_code == 200, r.text

        async def dispatched() -> bool:
            async with container.sessionmaker() as s:
                pending = await s.scalar(
                    select(func.count()).select_from(Event).where(Event.dispatched_at.is_(None))
                )
            return pending == 0

        await eventually(dispatched)
        assert redis.Redis.from_url(private_redis.url(1)).llen("celery") >= 1  # queued
        private_redis.restart_empty()  # ... and lost
    finally:
        container.jobs = healthy
    assert await count_rows(container, Refund) == 0

    await redrive_refunds(container)  # too fresh: its job may still be on the way
    assert await count_rows(container, Refund) == 0
    clock.advance(61)
    await asyncio.gather(redrive_refunds(container), redrive_refunds(container))
    await redrive_refunds(container)
    assert await _refund_sent(container)
    assert await count_rows(container, Refund) == 1
    refunds = _gateway_refunds(razorpay_sandbox, paid["razorpay_payment_id"])
    assert [r["amount"] for r in refunds] == [order["total"]]
    final = await _order(client, me, order["id"])
    assert final["refund"]["amount"] == order["total"]


class HoldingProxy:
    """An HTTP proxy in front of the gateway sandbox that holds refund calls while `hold`
    is set: the worker making the call is then stuck mid-job, ready to be killed. Held
    calls are forwarded once released, so the gateway does get the dead worker's refund
    (the worst case: money moved, our side never heard)."""

    def __init__(self, target: str) -> None:
        self.target = urlsplit(target)
        self.hold = threading.Event()
        self.release = threading.Event()
        self.held = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.hold.is_set() and "/refund" in self.path:
                    proxy.held += 1
                    proxy.release.wait(120)
                conn = http.client.HTTPConnection(
                    proxy.target.hostname, proxy.target.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, proxy.target.path + self.path, body, headers)
                answer = conn.getresponse()
                data = answer.read()
                try:
                    self.send_response(answer.status)
                    for k, v in answer.getheaders():
                        if k.lower() not in ("transfer-encoding", "connection"):
                            self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the caller was killed meanwhile

            do_GET = do_POST = do_PATCH = _forward

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _received(log_path: Path, job: str) -> list[str]:
    """Ids of `job` tasks the workers logged as received, in order."""
    found = re.findall(rf"Task {re.escape(job)}\[([0-9a-f-]+)\] received", log_path.read_text())
    return [str(task_id) for task_id in found]


async def test_a_killed_workers_refund_runs_on_another_worker_within_the_timeout(
    client, container, razorpay_sandbox, base_env, private_redis, tmp_path
):
    """kill -9 a worker in the middle of a refund: another worker runs the job soon after
    the visibility timeout (12 s here; Celery's default was an hour), and the money is
    refunded once although the gateway got the dead worker's call too.

    The second worker starts at once, so its start-up restore finds the job not yet
    overdue: only the periodic restore (every quarter of the timeout) can hand it over in
    time; kombu's own runs every 100 s."""
    visibility = 12
    proxy = HoldingProxy(razorpay_sandbox.base_url)
    env = {
        **os.environ,
        **base_env,
        "CANTEEN_REDIS_URL": private_redis.url(0),
        "CANTEEN_CELERY_BROKER_URL": private_redis.url(1),
        "CANTEEN_RAZORPAY_BASE_URL": proxy.url,
        "CANTEEN_JOB_VISIBILITY_TIMEOUT_SECONDS": str(visibility),
    }
    log_path = tmp_path / "worker.log"
    log_path.write_bytes(b"")
    first = start_celery_worker(env, log_path, "--without-heartbeat")
    second: subprocess.Popen[bytes] | None = None
    healthy = container.jobs
    try:
        wait_worker_ready(first, log_path, 0)
        me, order, paid = await _paid_order(client, container, razorpay_sandbox)
        proxy.hold.set()
        container.jobs = CeleryRunner(private_redis.url(1))
        r = await client.post(f"{API}/orders/{order['id']}/cancel", json={}, headers=bearer(me))
        assert r.status_code == 200, r.text

        deadline = time.monotonic() + 60
        while proxy.held == 0:  # the first worker is inside the refund call
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            await asyncio.sleep(0.1)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        proxy.hold.clear()
        proxy.release.set()  # the gateway gets the dead worker's refund after all

        second = start_celery_worker(env, log_path, "--without-heartbeat")
        await asyncio.to_thread(wait_worker_ready, second, log_path, 1)
        await eventually(lambda: _refund_sent(container), timeout=visibility + 30)
        took = time.monotonic() - killed_at
        assert took < visibility + 10, f"redelivered {took:.1f} s after the kill"
        received = _received(log_path, "payments.refund_order")
        assert received.count(received[0]) == 2, received  # the dead worker's job, again
    finally:
        container.jobs = healthy
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        proxy.close()
    assert await count_rows(container, Refund) == 1
    refunds = _gateway_refunds(razorpay_sandbox, paid["razorpay_payment_id"])
    assert [r["amount"] for r in refunds] == [order["total"]]


# ---- point 11: a timed-out UPI order shows its payment failed ----------------------


async def test_timed_out_upi_order_shows_payment_failed(client, container, clock):
    me, order = await _upi_order(client, container)
    assert order["payment_status"] == "pending"
    clock.advance(301)
    await expire_unpaid(container)
    await expire_unpaid(container)  # a second run finds nothing left to do
    final = await _order(client, me, order["id"])
    assert (final["status"], final["payment_status"], final["cancel_reason"]) == (
        "cancelled",
        "failed",
        "payment_timeout",
    )
    assert final["refund"] is None
    async with container.sessionmaker() as s:
        from canteen.events.models import Event

        events = list(
            await s.scalars(
                select(Event).where(Event.order_id == uuid.UUID(order["id"])).order_by(Event.seq)
            )
        )
    assert [(e.type, e.status, e.payment_status) for e in events] == [
        ("order.created", "received", "pending"),
        ("order.status_changed", "cancelled", "failed"),
    ]


async def test_a_refill_killed_mid_way_is_done_by_the_next_run(
    container, base_env, private_redis, tmp_path
):
    """kill -9 a worker in the middle of the daily stock refill: the day is not marked
    done (the mark commits with the refill), so the next run refills, once. (A claim
    taken in Redis before the refill stayed behind the dead worker: no refill that day.)"""
    m = await seed_menu(container, samosa_stock=10)

    async def set_left(n: int) -> None:
        async with container.sessionmaker() as s, s.begin():
            item = await s.get(MenuItem, m.samosa)
            assert item is not None
            item.stock_remaining = n

    async def left() -> int:
        async with container.sessionmaker() as s:
            item = await s.get(MenuItem, m.samosa)
            assert item is not None and item.stock_remaining is not None
            return item.stock_remaining

    await set_left(3)  # seven sold yesterday
    env = {
        **os.environ,
        **base_env,
        "CANTEEN_REDIS_URL": private_redis.url(0),
        "CANTEEN_CELERY_BROKER_URL": private_redis.url(1),
        "CANTEEN_JOB_VISIBILITY_TIMEOUT_SECONDS": "3",
    }
    log_path = tmp_path / "worker.log"
    log_path.write_bytes(b"")
    runner = CeleryRunner(private_redis.url(1))
    first = start_celery_worker(env, log_path, "--without-heartbeat")
    second: subprocess.Popen[bytes] | None = None
    # Our transaction holds what the refill needs (the item's row; SQLite's write lock),
    # so the worker is caught inside the job when it is killed.
    holder = await container.engine.connect()
    try:
        await asyncio.to_thread(wait_worker_ready, first, log_path, 0)
        await holder.begin()
        await holder.execute(select(MenuItem.id).where(MenuItem.id == m.samosa).with_for_update())
        await runner.enqueue("menu.daily_stock_reset")
        deadline = time.monotonic() + 60
        while b"menu.daily_stock_reset" not in log_path.read_bytes():
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # inside the job, waiting for our lock
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        await holder.rollback()
        assert await left() == 3

        second = start_celery_worker(env, log_path, "--without-heartbeat")
        await asyncio.to_thread(wait_worker_ready, second, log_path, 1)
        await runner.enqueue("menu.daily_stock_reset")  # the next sweep

        async def refilled() -> bool:
            return await left() == 10

        await eventually(refilled, timeout=30)
        await set_left(6)  # sold today; later runs (and the redelivered one) leave it
        await runner.enqueue("menu.daily_stock_reset")
        deadline = time.monotonic() + 30
        # The dead worker's job is handed to the second worker too, and runs as a no-op.
        while len(received := _received(log_path, "menu.daily_stock_reset")) < 4:
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            await asyncio.sleep(0.2)
        assert received.count(received[0]) == 2, received
        await asyncio.sleep(1.0)
        assert await left() == 6
    finally:
        await holder.close()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
