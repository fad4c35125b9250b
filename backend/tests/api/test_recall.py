"""Recall (issue 17, part 6): kitchen staff put back a mistaken move within 5 minutes; the
event log says who and why; the student's tracking follows; refusals change nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import websockets
from live import serve
from orders_helpers import order_body, place, seed_menu
from pydantic import TypeAdapter
from sqlalchemy import func, select

from canteen.events.models import Event
from canteen.menu.models import CanteenConfig, MenuItem
from canteen.orders.models import Order
from canteen.realtime.schemas import OrderSocketMessage
from conftest import API, assert_error, bearer, login_customer, login_staff


async def _status(client, staff, oid, status, **extra):
    r = await client.patch(
        f"{API}/admin/orders/{oid}/status", json={"status": status, **extra}, headers=bearer(staff)
    )
    assert r.status_code == 200, r.text


async def _recall(client, staff, oid, reason="Marked by mistake"):
    return await client.post(
        f"{API}/admin/orders/{oid}/recall", json={"reason": reason}, headers=bearer(staff)
    )


async def _row(container, oid) -> dict[str, Any]:
    async with container.sessionmaker() as s:
        o = await s.get(Order, uuid.UUID(oid))
        return {
            k: getattr(o, k)
            for k in (
                "status",
                "payment_status",
                "ready_at",
                "completed_at",
                "cancelled_at",
                "cancelled_by",
                "cancel_reason",
                "updated_at",
            )
        }


async def _events(container, oid) -> list[Event]:
    async with container.sessionmaker() as s:
        return list(
            await s.scalars(
                select(Event).where(Event.order_id == uuid.UUID(oid)).order_by(Event.seq)
            )
        )


async def _stock(container, item_id) -> int | None:
    async with container.sessionmaker() as s:
        return (await s.get(MenuItem, item_id)).stock_remaining


async def _event_count(container) -> int:
    async with container.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Event)) or 0)


async def _recv(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if msg.get("type") != "ping":
            return msg


async def test_a_mistaken_ready_is_recalled_and_the_students_socket_follows(
    app, client, container, clock
):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    await _status(client, kitchen, order["id"], "preparing")
    async with serve(app) as host:
        url = f"ws://{host}{API}/ws/orders/{order['id']}?token={me['access_token']}"
        async with websockets.connect(url) as ws:
            assert (await _recv(ws))["status"] == "preparing"
            await _status(client, kitchen, order["id"], "ready")
            assert (await _recv(ws))["status"] == "ready"
            clock.advance(4 * 60 + 59)
            r = await _recall(client, kitchen, order["id"], "  Wrong ticket  ")
            assert r.status_code == 200, r.text
            body = r.json()["data"]
            assert body["status"] == "preparing" and body["recalled_from"] == "ready"
            assert body["id"] == order["id"] and body["number"] == order["number"]
            msg = await _recv(ws)
            assert msg["type"] == "order.recalled" and msg["status"] == "preparing"
            TypeAdapter(OrderSocketMessage).validate_python(msg)  # as documented
            assert msg["data"] == {
                "from": "ready",
                "to": "preparing",
                "reason": "Wrong ticket",
                "actor": "kitchen",
                "recalled_seq": msg["data"]["recalled_seq"],
            }
    row = await _row(container, order["id"])
    assert row["status"] == "preparing" and row["ready_at"] is None
    events = await _events(container, order["id"])
    assert [e.type for e in events][-2:] == ["order.status_changed", "order.recalled"]
    assert events[-1].actor_id == uuid.UUID(kitchen["user"]["id"])
    assert events[-1].data["recalled_seq"] == events[-2].seq
    # The student sees it: the order is preparing again, and can be marked ready again.
    r = await client.get(f"{API}/orders/{order['id']}", headers=bearer(me))
    assert r.json()["data"]["status"] == "preparing"
    r = await client.get(f"{API}/admin/orders/{order['id']}", headers=bearer(kitchen))
    assert r.json()["data"]["allowed_next"] == ["ready", "cancelled"]
    assert r.json()["data"]["events"][-1]["type"] == "order.recalled"
    await _status(client, kitchen, order["id"], "ready")


async def test_a_mistaken_handover_of_a_cash_order_is_recalled_to_ready_cash_due_again(
    client, container
):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    for status in ("preparing", "ready"):
        await _status(client, admin, order["id"], status)
    r = await client.post(
        f"{API}/admin/orders/{order['id']}/handover",
        json={"pickup_code": order["pickup_code"]},
        headers=bearer(admin),
    )
    assert r.status_code == 200 and r.json()["data"]["payment_status"] == "paid"
    r = await _recall(client, admin, order["id"], "Handed to the wrong student")
    assert r.status_code == 200, r.text
    assert r.json()["data"] | {} == r.json()["data"]
    row = await _row(container, order["id"])
    assert row["status"] == "ready" and row["payment_status"] == "cash_due"
    assert row["completed_at"] is None and row["ready_at"] is not None
    last = (await _events(container, order["id"]))[-1]
    assert last.type == "order.recalled" and last.status == "ready"
    assert last.data["actor"] == "admin" and last.data["reason"] == "Handed to the wrong student"


async def test_a_recall_that_takes_the_last_portions_says_the_dish_sold_out(client, container):
    """The recall takes the stock again; taking the last portions moves the menu version and
    says the dish sold out once, as a placement does (orders.stock.announce_stock)."""
    m = await seed_menu(container, samosa_stock=2)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.samosa, 2)))).json()["data"]
    await _status(client, kitchen, order["id"], "cancelled", reason="Ran out")
    assert await _stock(container, m.samosa) == 2
    sold_out = select(func.count()).where(
        Event.type == "menu.updated", Event.data["action"].as_string() == "sold_out"
    )
    version = select(CanteenConfig.menu_version)
    async with container.sessionmaker() as s:
        before = (await s.scalar(sold_out), await s.scalar(version))
    assert (await _recall(client, kitchen, order["id"])).status_code == 200
    assert await _stock(container, m.samosa) == 0
    async with container.sessionmaker() as s:
        assert await s.scalar(sold_out) == before[0] + 1
        assert await s.scalar(version) > before[1]


async def test_a_staff_cancel_is_recalled_and_takes_the_stock_it_gave_back(client, container):
    m = await seed_menu(container, samosa_stock=5)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.samosa, 2), (m.dosa, 1)))).json()["data"]
    assert await _stock(container, m.samosa) == 3
    await _status(client, kitchen, order["id"], "cancelled", reason="Ran out")
    assert await _stock(container, m.samosa) == 5
    r = await _recall(client, kitchen, order["id"])
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "confirmed"
    assert r.json()["data"]["recalled_from"] == "cancelled"
    assert await _stock(container, m.samosa) == 3
    row = await _row(container, order["id"])
    assert row["status"] == "confirmed" and row["payment_status"] == "cash_due"
    assert (row["cancelled_at"], row["cancelled_by"], row["cancel_reason"]) == (None, None, None)
    r = await client.get(f"{API}/orders/{order['id']}", headers=bearer(me))
    assert r.json()["data"]["status"] == "confirmed"
    assert r.json()["data"]["cancel_reason"] is None


async def test_a_recall_after_five_minutes_is_refused_and_changes_nothing(client, container, clock):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    await _status(client, kitchen, order["id"], "preparing")
    await _status(client, kitchen, order["id"], "ready")
    clock.advance(5 * 60 + 1)
    before, count = await _row(container, order["id"]), await _event_count(container)
    err = assert_error(await _recall(client, kitchen, order["id"]), 409, "RECALL_WINDOW_PASSED")
    assert err["message"] == "A move can only be recalled within 5 minutes"
    assert err["details"] == [
        {
            "field": "status",
            "issue": "window_passed",
            "current": "ready",
            "moved_at": err["details"][0]["moved_at"],
            "window_seconds": 300,
        }
    ]
    assert await _row(container, order["id"]) == before
    assert await _event_count(container) == count


async def test_customers_and_delivery_staff_cannot_recall(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    delivery = await login_staff(client, container, "delivery", "+919000000301")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    await _status(client, kitchen, order["id"], "preparing")
    await _status(client, kitchen, order["id"], "ready")
    before, count = await _row(container, order["id"]), await _event_count(container)
    for who in (me, delivery):
        err = assert_error(await _recall(client, who, order["id"]), 403, "INSUFFICIENT_ROLE")
        assert err["message"] == "Your account is not allowed to do this"
        assert err["details"][0]["required_roles"] == ["admin", "kitchen"]
    assert_error(
        await client.post(f"{API}/admin/orders/{order['id']}/recall", json={"reason": "x"}),
        401,
        "INVALID_TOKEN",
    )
    assert await _row(container, order["id"]) == before
    assert await _event_count(container) == count


async def test_only_a_kitchen_move_can_be_recalled_and_only_once(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    # Cancelled by the student: not the kitchen's move to undo.
    mine = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    r = await client.post(f"{API}/orders/{mine['id']}/cancel", headers=bearer(me))
    assert r.status_code == 200, r.text
    # Never moved by the kitchen at all.
    fresh = (await place(client, me, order_body((m.chai, 1)))).json()["data"]
    # Moved and recalled once already.
    once = (await place(client, me, order_body((m.chai, 2)))).json()["data"]
    await _status(client, kitchen, once["id"], "preparing")
    await _status(client, kitchen, once["id"], "ready")
    assert (await _recall(client, kitchen, once["id"])).status_code == 200
    for order, status in ((mine, "cancelled"), (fresh, "confirmed"), (once, "preparing")):
        before, count = await _row(container, order["id"]), await _event_count(container)
        err = assert_error(await _recall(client, kitchen, order["id"]), 409, "NOTHING_TO_RECALL")
        assert err["message"] == "This order has no kitchen move to put back"
        assert err["details"] == [{"field": "status", "issue": "not_recallable", "current": status}]
        assert await _row(container, order["id"]) == before
        assert await _event_count(container) == count


async def test_a_cancel_whose_refund_has_started_cannot_be_recalled(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    # A paid UPI order (as its verified payment would leave it).
    async with container.sessionmaker() as s, s.begin():
        row = await s.get(Order, uuid.UUID(order["id"]))
        row.payment_method, row.payment_status = "upi", "captured"
    await _status(client, kitchen, order["id"], "cancelled", reason="Kitchen closing")
    before, count = await _row(container, order["id"]), await _event_count(container)
    err = assert_error(await _recall(client, kitchen, order["id"]), 409, "RECALL_REFUND_STARTED")
    assert err["message"] == "The refund of this paid order has started; it cannot be recalled"
    assert err["details"] == [
        {"field": "payment_status", "issue": "refund_started", "current": "captured"}
    ]
    assert await _row(container, order["id"]) == before
    assert await _event_count(container) == count


async def test_a_cancel_whose_dishes_were_sold_since_cannot_be_recalled(client, container):
    m = await seed_menu(container, samosa_stock=3)
    me = await login_customer(client, container)
    friend = await login_customer(client, container, "+919876500009")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.samosa, 2)))).json()["data"]
    await _status(client, kitchen, order["id"], "cancelled", reason="Ran out")
    assert (await place(client, friend, order_body((m.samosa, 2)))).status_code == 201
    before, count = await _row(container, order["id"]), await _event_count(container)
    err = assert_error(await _recall(client, kitchen, order["id"]), 409, "RECALL_STOCK_GONE")
    assert err["details"] == [
        {
            "field": "items",
            "issue": "sold_since",
            "message": "Only 1 Samosa left",
            "menu_item_id": str(m.samosa),
            "wanted": 2,
            "left": 1,
        }
    ]
    assert await _stock(container, m.samosa) == 1
    assert await _row(container, order["id"]) == before
    assert await _event_count(container) == count


async def test_a_recall_needs_a_reason_and_an_existing_order(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    await _status(client, kitchen, order["id"], "preparing")
    await _status(client, kitchen, order["id"], "ready")
    before, count = await _row(container, order["id"]), await _event_count(container)
    url = f"{API}/admin/orders/{order['id']}/recall"
    for body, issue in (({}, "missing"), ({"reason": "   "}, "string_too_short")):
        err = assert_error(
            await client.post(url, json=body, headers=bearer(kitchen)), 400, "VALIDATION_ERROR"
        )
        assert [(d["field"], d["issue"]) for d in err["details"]] == [("reason", issue)]
    err = assert_error(await _recall(client, kitchen, str(uuid.uuid4())), 404, "NOT_FOUND")
    assert err["message"] == "No such order"
    assert await _row(container, order["id"]) == before
    assert await _event_count(container) == count
