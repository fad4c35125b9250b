"""No-shows (issue 16, part 4): ready pickup orders not collected within the canteen's
window become `not_collected` (the sweep, once per order), the student is reminded five
minutes before, paid UPI orders keep their money unless an admin refunds by hand, and a
customer past the canteen's no-show limit may only pay by UPI. Both backends."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from live import serve
from orders_helpers import order_body, place, register_device, seed_menu, set_config
from pydantic import TypeAdapter
from sqlalchemy import func, select, update
from test_payments import _order, _upi_order, eventually, sandbox_pay

from canteen.core.celery_queue import CeleryRunner
from canteen.core.db import utcnow
from canteen.dev.models import DevOutboxMessage
from canteen.events.models import Event
from canteen.menu.models import MenuItem
from canteen.notifications.reminders import _remind, collection_reminders, reminder_key
from canteen.orders.models import Order
from canteen.orders.tasks import sweep_not_collected
from canteen.payments.models import Refund
from canteen.realtime.schemas import OrderSocketMessage
from canteen.users.models import User
from canteen_testkit.sse import read_sse
from canteen_testkit.stack import start_celery_worker, wait_worker_ready
from conftest import (
    API,
    BACKEND,
    assert_error,
    bearer,
    count_rows,
    login_customer,
    login_staff,
)

MINUTE = 60


async def _move(client: Any, staff: dict[str, Any], oid: str, status: str) -> None:
    r = await client.patch(
        f"{API}/admin/orders/{oid}/status", json={"status": status}, headers=bearer(staff)
    )
    assert r.status_code == 200, r.text


async def _ready(client: Any, kitchen: dict[str, Any], oid: str) -> None:
    await _move(client, kitchen, oid, "preparing")
    await _move(client, kitchen, oid, "ready")


async def _cash_ready(client: Any, container: Any, me: dict[str, Any], m: Any, kitchen: Any):
    r = await place(client, me, order_body((m.dosa, 1)))
    assert r.status_code == 201, r.text
    order = r.json()["data"]
    await _ready(client, kitchen, order["id"])
    return order


async def _status_events(container: Any, oid: str) -> list[tuple[str, str | None, Any]]:
    async with container.sessionmaker() as s:
        rows = await s.scalars(
            select(Event)
            .where(Event.order_id == uuid.UUID(oid), Event.type == "order.status_changed")
            .order_by(Event.seq)
        )
        return [(e.status, (e.data or {}).get("from"), (e.data or {}).get("reason")) for e in rows]


async def _no_shows(container: Any, phone: str) -> int:
    async with container.sessionmaker() as s:
        return int(await s.scalar(select(User.no_show_count).where(User.phone == phone)) or 0)


async def _setup(client: Any, container: Any):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    return m, me, kitchen


async def test_sweep_moves_a_ready_pickup_order_after_the_window_and_not_before(
    client, container, clock
):
    m, me, kitchen = await _setup(client, container)
    order = await _cash_ready(client, container, me, m, kitchen)
    oid = order["id"]
    # A delivery order left ready far longer is never a no-show.
    r = await place(
        client, me, order_body((m.chai, 1), order_type="delivery", delivery_address="Hostel 4")
    )
    assert r.status_code == 201, r.text
    delivery = r.json()["data"]
    await _ready(client, kitchen, delivery["id"])

    clock.advance(29 * MINUTE)
    await sweep_not_collected(container)
    assert (await _order(client, me, oid))["status"] == "ready"

    clock.advance(2 * MINUTE)
    await sweep_not_collected(container)
    await sweep_not_collected(container)  # a second run finds nothing left to do
    seen = await _order(client, me, oid)
    assert (seen["status"], seen["actions"], seen["refund"]) == ("not_collected", [], None)
    assert (await _order(client, me, delivery["id"]))["status"] == "ready"
    assert await _status_events(container, oid) == [
        ("preparing", "confirmed", None),
        ("ready", "preparing", None),
        ("not_collected", "ready", "not collected within 30 minutes"),
    ]
    assert await _no_shows(container, "+919876543210") == 1

    # The kitchen sees it finished: nothing more may be done with it.
    r = await client.get(f"{API}/admin/orders/{oid}", headers=bearer(kitchen))
    detail = r.json()["data"]
    assert (detail["status"], detail["allowed_next"]) == ("not_collected", [])
    assert detail["events"][-1]["status"] == "not_collected"
    r = await client.patch(
        f"{API}/admin/orders/{oid}/status",
        json={"status": "completed", "pickup_code": order["pickup_code"]},
        headers=bearer(kitchen),
    )
    err = assert_error(r, 409, "INVALID_TRANSITION")
    assert err["details"][0]["current"] == "not_collected"


async def test_the_window_is_the_canteens_setting(client, container, clock):
    m, me, kitchen = await _setup(client, container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    r = await client.patch(
        f"{API}/admin/config", json={"collection_window_minutes": 10}, headers=bearer(admin)
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["collection_window_minutes"] == 10
    order = await _cash_ready(client, container, me, m, kitchen)
    clock.advance(9 * MINUTE)
    await sweep_not_collected(container)
    assert (await _order(client, me, order["id"]))["status"] == "ready"
    clock.advance(2 * MINUTE)
    await sweep_not_collected(container)
    assert (await _order(client, me, order["id"]))["status"] == "not_collected"


async def test_settings_are_validated_and_public(client, container):
    await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    r = await client.get(f"{API}/admin/config", headers=bearer(admin))
    data = r.json()["data"]
    assert (data["collection_window_minutes"], data["no_show_cash_limit"]) == (30, None)
    r = await client.patch(
        f"{API}/admin/config",
        json={"collection_window_minutes": 2, "no_show_cash_limit": 0},
        headers=bearer(admin),
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert {d["field"] for d in err["details"]} == {
        "collection_window_minutes",
        "no_show_cash_limit",
    }
    r = await client.patch(
        f"{API}/admin/config", json={"collection_window_minutes": None}, headers=bearer(admin)
    )
    assert_error(r, 400, "VALIDATION_ERROR")
    r = await client.get(f"{API}/admin/config", headers=bearer(admin))
    assert r.json()["data"]["collection_window_minutes"] == 30  # nothing was written
    r = await client.patch(
        f"{API}/admin/config", json={"no_show_cash_limit": 2}, headers=bearer(admin)
    )
    assert r.json()["data"]["no_show_cash_limit"] == 2
    public = (await client.get(f"{API}/config/public")).json()["data"]
    assert "no_show_cash_limit" not in public  # the canteen's rule, not the apps' business
    r = await client.patch(
        f"{API}/admin/config", json={"no_show_cash_limit": None}, headers=bearer(admin)
    )
    assert r.json()["data"]["no_show_cash_limit"] is None  # null switches the limit off


async def test_two_concurrent_sweeps_move_each_order_once(client, container, clock):
    await sweeps_race_case(client, container, clock)


async def sweeps_race_case(client: Any, container: Any, clock: Any) -> None:
    """Also test_faults_jobs' run-twice case of orders.sweep_not_collected."""
    m, me, kitchen = await _setup(client, container)
    orders = [await _cash_ready(client, container, me, m, kitchen) for _ in range(3)]
    clock.advance(31 * MINUTE)
    await asyncio.gather(sweep_not_collected(container), sweep_not_collected(container))
    for order in orders:
        events = await _status_events(container, order["id"])
        assert [e[0] for e in events].count("not_collected") == 1, events
        assert (await _order(client, me, order["id"]))["status"] == "not_collected"
    assert await _no_shows(container, "+919876543210") == 3


async def _reminders(container: Any, token: str) -> list[dict[str, Any]]:
    async with container.sessionmaker() as s:
        rows = await s.scalars(
            select(DevOutboxMessage).where(
                DevOutboxMessage.channel == "push", DevOutboxMessage.to == token
            )
        )
        return [
            p.payload
            for p in rows
            if (p.payload or {}).get("data", {}).get("type") == "collection_reminder"
        ]


async def test_the_reminder_goes_once_five_minutes_before_the_window_closes(
    client, container, clock
):
    await reminder_once_case(client, container, clock)


async def reminder_once_case(client: Any, container: Any, clock: Any) -> None:
    """Also test_faults_jobs' run-twice case of push.collection_reminders."""
    m, me, kitchen = await _setup(client, container)
    token = await register_device(client, me)
    order = await _cash_ready(client, container, me, m, kitchen)
    clock.advance(24 * MINUTE)
    await collection_reminders(container)
    assert await _reminders(container, token) == []
    clock.advance(2 * MINUTE)
    await asyncio.gather(collection_reminders(container), collection_reminders(container))
    await collection_reminders(container)
    sent = await _reminders(container, token)
    assert len(sent) == 1, sent
    body = sent[0]["notification"]["body"]
    assert order["number"] in body and "within 4 minutes" in body, body
    assert sent[0]["data"]["order_id"] == order["id"]
    clock.advance(5 * MINUTE)
    await collection_reminders(container)
    assert len(await _reminders(container, token)) == 1


async def test_a_reminder_sent_by_a_worker_killed_before_its_mark_is_not_sent_again(
    client, container, clock
):
    from canteen.core.once import JobMark

    m, me, kitchen = await _setup(client, container)
    token = await register_device(client, me)
    order = await _cash_ready(client, container, me, m, kitchen)
    clock.advance(26 * MINUTE)
    # The worker sent the push and died before marking it done: the next sweep re-drives
    # it from the database and the device's claim keeps it from a second push.
    await _remind(container, uuid.UUID(order["id"]), order["number"], 4)
    async with container.sessionmaker() as s:
        assert await s.get(JobMark, reminder_key(order["id"])) is None
    await collection_reminders(container)
    assert len(await _reminders(container, token)) == 1
    async with container.sessionmaker() as s:
        assert await s.get(JobMark, reminder_key(order["id"])) is not None


async def _paid_ready(client: Any, container: Any, razorpay_sandbox: Any):
    me, order = await _upi_order(client, container)
    paid = sandbox_pay(razorpay_sandbox, order["payment"]["gateway_order_id"], "success")
    r = await client.post(
        f"{API}/payments/verify", json={"order_id": order["id"], **paid}, headers=bearer(me)
    )
    assert r.json()["data"]["status"] == "confirmed", r.text
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    await _ready(client, kitchen, order["id"])
    return me, kitchen, order, paid


def _gateway_refunds(razorpay_sandbox: Any, payment_id: str) -> list[dict[str, Any]]:
    with razorpay_sandbox.sandbox._lock:
        return [
            r for r in razorpay_sandbox.sandbox._refunds.values() if r["payment_id"] == payment_id
        ]


async def test_an_uncollected_upi_order_is_not_refunded_but_an_admin_can_refund_it(
    client, container, clock, razorpay_sandbox
):
    me, kitchen, order, paid = await _paid_ready(client, container, razorpay_sandbox)
    oid = order["id"]
    clock.advance(31 * MINUTE)
    await sweep_not_collected(container)
    await container.jobs.drain()
    seen = await _order(client, me, oid)
    assert (seen["status"], seen["payment_status"], seen["refund"]) == (
        "not_collected",
        "captured",
        None,
    )
    assert await count_rows(container, Refund) == 0
    assert _gateway_refunds(razorpay_sandbox, paid["razorpay_payment_id"]) == []

    url = f"{API}/admin/orders/{oid}/refund"
    r = await client.post(url, json={"reason": "Student was in an exam"}, headers=bearer(kitchen))
    err = assert_error(r, 403, "INSUFFICIENT_ROLE")
    assert err["details"] == [{"required_roles": ["admin"], "role": "kitchen"}]
    r = await client.post(url, json={"reason": "Student was in an exam"}, headers=bearer(me))
    assert_error(r, 403, "INSUFFICIENT_ROLE")
    admin = await login_staff(client, container, "admin", "+919000000101")
    r = await client.post(url, json={"reason": "   "}, headers=bearer(admin))
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in err["details"]] == ["reason"]
    assert await count_rows(container, Refund) == 0

    r = await client.post(url, json={"reason": "Student was in an exam"}, headers=bearer(admin))
    assert r.status_code == 202, r.text
    assert r.json()["data"] == {
        "status": "requested",
        "amount": order["total"],
        "reason": "Student was in an exam",
    }

    async def sent() -> bool:
        # At the gateway, and its id recorded (a Celery worker sends it on PostgreSQL).
        async with container.sessionmaker() as s:
            row = await s.scalar(select(Refund))
        at_gateway = _gateway_refunds(razorpay_sandbox, paid["razorpay_payment_id"])
        return len(at_gateway) == 1 and row is not None and row.gateway_refund_id is not None

    await eventually(sent)
    await container.jobs.drain()

    async with container.sessionmaker() as s:
        refund = await s.scalar(select(Refund))
    assert (refund.amount, refund.reason, refund.gateway_refund_id is not None) == (
        order["total"],
        "Student was in an exam",
        True,
    )
    final = await _order(client, me, oid)
    assert final["status"] == "not_collected"
    assert (final["refund"]["reason"], final["refund"]["status"]) == (
        "Student was in an exam",
        refund.status,
    )
    async with container.sessionmaker() as s:
        asked = list(
            await s.scalars(
                select(Event).where(
                    Event.order_id == uuid.UUID(oid), Event.type == "order.payment_updated"
                )
            )
        )
    assert [e.data["refund"]["reason"] for e in asked][:1] == ["Student was in an exam"]

    r = await client.post(url, json={"reason": "Again"}, headers=bearer(admin))
    err = assert_error(r, 409, "ALREADY_REFUNDED")
    assert err["message"] == f"This order's payment was already refunded (refund {refund.status})"
    assert err["details"] == [
        {
            "field": "order_id",
            "issue": "already_refunded",
            "message": "An order's payment is refunded once",
            "refund_status": refund.status,
        }
    ]
    assert await count_rows(container, Refund) == 1
    assert [
        x["amount"] for x in _gateway_refunds(razorpay_sandbox, paid["razorpay_payment_id"])
    ] == [order["total"]]


async def test_refund_by_hand_refuses_an_unpaid_order_and_an_unknown_one(client, container):
    m, me, kitchen = await _setup(client, container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    cash = await _cash_ready(client, container, me, m, kitchen)
    events_before = await count_rows(container, Event)
    r = await client.post(
        f"{API}/admin/orders/{cash['id']}/refund",
        json={"reason": "Goodwill"},
        headers=bearer(admin),
    )
    err = assert_error(r, 409, "ORDER_NOT_PAID")
    assert err["message"] == "This order has no captured UPI payment to refund"
    assert err["details"] == [
        {
            "field": "order_id",
            "issue": "not_paid",
            "message": "Only an order paid by UPI (captured) can be refunded",
            "payment_method": "cash",
            "payment_status": "cash_due",
        }
    ]
    r = await client.post(
        f"{API}/admin/orders/{uuid.uuid4()}/refund",
        json={"reason": "Goodwill"},
        headers=bearer(admin),
    )
    err = assert_error(r, 404, "NOT_FOUND")
    assert (err["message"], err["details"]) == ("No such order", [])
    assert await count_rows(container, Refund) == 0
    assert await count_rows(container, Event) == events_before


async def _counts(container: Any, m: Any) -> tuple[int, int, int | None]:
    async with container.sessionmaker() as s:
        orders = int(await s.scalar(select(func.count()).select_from(Order)) or 0)
        events = int(await s.scalar(select(func.count()).select_from(Event)) or 0)
        stock = await s.scalar(select(MenuItem.stock_remaining).where(MenuItem.id == m.samosa))
    return orders, events, stock


async def test_cash_is_refused_past_the_no_show_limit_and_upi_still_allowed(
    client, container, clock
):
    m, me, kitchen = await _setup(client, container)
    await _cash_ready(client, container, me, m, kitchen)
    clock.advance(31 * MINUTE)
    await sweep_not_collected(container)
    assert await _no_shows(container, "+919876543210") == 1
    admin = await login_staff(client, container, "admin", "+919000000101")
    r = await client.patch(
        f"{API}/admin/config", json={"no_show_cash_limit": 1}, headers=bearer(admin)
    )
    assert r.status_code == 200, r.text

    before = await _counts(container, m)
    r = await place(client, me, order_body((m.samosa, 2)))
    err = assert_error(r, 409, "CASH_NOT_ALLOWED")
    message = (
        "Cash is not available for this account: 1 earlier order was not collected "
        "(limit 1). Pay by UPI instead"
    )
    assert err["message"] == message
    assert err["details"] == [
        {
            "field": "payment_method",
            "issue": "cash_not_allowed",
            "message": message,
            "value": "cash",
            "no_show_count": 1,
            "no_show_cash_limit": 1,
        }
    ]
    assert await _counts(container, m) == before  # no order, no event, no stock taken

    # Another customer is not affected; this one still pays by UPI, without the switch.
    other = await login_customer(client, container, "+919812300000")
    assert (await place(client, other, order_body((m.chai, 1)))).status_code == 201
    r = await place(client, me, order_body((m.samosa, 2), payment_method="upi"))
    assert r.status_code == 201, r.text
    upi = r.json()["data"]
    assert "switch_to_cash" not in upi["actions"]
    events = await count_rows(container, Event)
    r = await client.post(
        f"{API}/orders/{upi['id']}/payment/switch-to-cash", json={}, headers=bearer(me)
    )
    err = assert_error(r, 409, "CASH_NOT_ALLOWED")
    assert err["message"] == message
    seen = await _order(client, me, upi["id"])
    assert (seen["payment_method"], seen["status"]) == ("upi", "received")
    assert await count_rows(container, Event) == events

    # The limit switched off: cash again.
    await set_config(container, no_show_cash_limit=None)
    assert (await place(client, me, order_body((m.chai, 1)))).status_code == 201


async def test_the_order_socket_and_the_kitchen_stream_carry_not_collected(
    app, client, container, clock
):
    m, me, kitchen = await _setup(client, container)
    order = await _cash_ready(client, container, me, m, kitchen)
    async with (
        serve(app) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as http,
        http.stream(
            "GET", f"{API}/admin/orders/stream", params={"token": kitchen["access_token"]}
        ) as resp,
        websockets.connect(
            f"ws://{host}{API}/ws/orders/{order['id']}?token={me['access_token']}"
        ) as ws,
    ):
        reading = asyncio.create_task(read_sse(resp, 2, timeout=10))
        first = await _socket_message(ws)
        assert first["status"] == "ready"
        clock.advance(31 * MINUTE)
        await sweep_not_collected(container)
        msg = await _socket_message(ws)
        TypeAdapter(OrderSocketMessage).validate_python(msg)  # as documented
        assert (msg["type"], msg["status"], msg["data"]["from"], msg["data"]["to"]) == (
            "order.status_changed",
            "not_collected",
            "ready",
            "not_collected",
        )
        # Nothing can undo it: the socket closes at once, as for any final status.
        with pytest.raises(websockets.ConnectionClosed):
            await _socket_message(ws)
        frames = await reading
    assert [f["event"] for f in frames] == ["hello", "order.status_changed"]
    assert (frames[1]["data"]["order_id"], frames[1]["data"]["status"]) == (
        order["id"],
        "not_collected",
    )


async def _socket_message(ws: Any, timeout: float = 10.0) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if msg.get("type") != "ping":
            return msg


@pytest.mark.skipif(BACKEND != "postgres", reason="Celery workers run with PostgreSQL and Redis")
async def test_two_celery_workers_sweeping_at_once_move_each_order_once(
    client, container, base_env, private_redis, tmp_path
):
    """Two sweeps queued at once for two real worker processes (on their own clocks: the
    orders' ready times are put 31 minutes back instead)."""
    m, me, kitchen = await _setup(client, container)
    orders = [await _cash_ready(client, container, me, m, kitchen) for _ in range(4)]
    async with container.sessionmaker() as s, s.begin():
        await s.execute(
            update(Order)
            .where(Order.id.in_([uuid.UUID(o["id"]) for o in orders]))
            .values(ready_at=utcnow() - timedelta(minutes=31))
        )
    env = {
        **os.environ,
        **base_env,
        "CANTEEN_REDIS_URL": private_redis.url(0),
        "CANTEEN_CELERY_BROKER_URL": private_redis.url(1),
    }
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for log in logs:
            log.write_bytes(b"")
            workers.append(start_celery_worker(env, log))
        for proc, log in zip(workers, logs, strict=True):
            await asyncio.to_thread(wait_worker_ready, proc, log, 0)
        runner = CeleryRunner(private_redis.url(1))
        await asyncio.gather(
            runner.enqueue("orders.sweep_not_collected"),
            runner.enqueue("orders.sweep_not_collected"),
        )

        async def moved() -> bool:
            async with container.sessionmaker() as s:
                statuses = await s.scalars(
                    select(Order.status).where(Order.id.in_([uuid.UUID(o["id"]) for o in orders]))
                )
                return set(statuses) == {"not_collected"}

        await eventually(moved, timeout=60)
        await eventually(lambda: _both_ran(logs), timeout=30)
    finally:
        for proc in workers:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    for order in orders:
        events = await _status_events(container, order["id"])
        assert [e[0] for e in events].count("not_collected") == 1, events
    assert await _no_shows(container, "+919876543210") == 4


async def _both_ran(logs: list[Path]) -> bool:
    done = [
        len(re.findall(r"Task orders\.sweep_not_collected\[[0-9a-f-]+\] succeeded", p.read_text()))
        for p in logs
    ]
    return sum(done) == 2
