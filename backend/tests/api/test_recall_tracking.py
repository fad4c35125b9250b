"""The student's tracking follows a recall (issue 17, part 6): after a handover or a staff
cancel, which may be recalled for 5 minutes, the order socket stays open until the window
has passed and delivers `order.recalled` and what follows; a status nothing can undo
closes the socket at once, as before."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
import websockets
from live import serve
from orders_helpers import order_body, place, seed_menu
from sqlalchemy import update

from canteen.orders.models import Order
from canteen.users.models import User
from conftest import API, bearer, login_customer, login_staff

WINDOW = 5 * 60


async def _recv(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if msg.get("type") != "ping":
            return msg


async def _still_open(ws: Any, seconds: float = 1.5) -> None:
    """Nothing arrives and the socket is not closed for `seconds` (a recall window check
    runs every second, so a wrong close would be seen)."""
    with pytest.raises(TimeoutError):
        await _recv(ws, seconds)


async def _closed_normally(ws: Any, timeout: float = 5.0) -> None:
    with pytest.raises(websockets.ConnectionClosedOK):
        await _recv(ws, timeout)
    assert (ws.close_code, ws.close_reason) == (1000, "")


async def _status(client, staff, oid, status, **extra):
    r = await client.patch(
        f"{API}/admin/orders/{oid}/status", json={"status": status, **extra}, headers=bearer(staff)
    )
    assert r.status_code == 200, r.text


async def _handover(client, staff, order) -> None:
    r = await client.post(
        f"{API}/admin/orders/{order['id']}/handover",
        json={"pickup_code": order["pickup_code"]},
        headers=bearer(staff),
    )
    assert r.status_code == 200, r.text


async def _recall(client, staff, oid) -> None:
    r = await client.post(
        f"{API}/admin/orders/{oid}/recall", json={"reason": "By mistake"}, headers=bearer(staff)
    )
    assert r.status_code == 200, r.text


async def _scene(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container, "+919876500001")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    return m, me, kitchen, order


def _url(host: str, order: dict[str, Any], me: dict[str, Any]) -> str:
    return f"ws://{host}{API}/ws/orders/{order['id']}?token={me['access_token']}"


async def test_a_recalled_handover_reaches_the_open_socket_then_the_window_closes_it(
    app, client, container, clock
):
    _m, me, kitchen, order = await _scene(client, container)
    for status in ("preparing", "ready"):
        await _status(client, kitchen, order["id"], status)
    async with serve(app) as host, websockets.connect(_url(host, order, me)) as ws:
        assert (await _recv(ws))["status"] == "ready"
        await _handover(client, kitchen, order)
        msg = await _recv(ws)
        assert (msg["type"], msg["status"]) == ("order.status_changed", "completed")
        await _still_open(ws)
        clock.advance(WINDOW - 10)
        await _still_open(ws)
        await _recall(client, kitchen, order["id"])
        msg = await _recv(ws)
        assert (msg["type"], msg["status"], msg["payment_status"]) == (
            "order.recalled",
            "ready",
            "cash_due",
        )
        assert msg["data"]["from"] == "completed" and msg["data"]["to"] == "ready"
        # Handed over again, to the right student this time: a new window starts then.
        await _handover(client, kitchen, order)
        msg = await _recv(ws)
        assert (msg["type"], msg["status"]) == ("order.status_changed", "completed")
        clock.advance(WINDOW - 10)  # the first handover's window has passed, not this one's
        await _still_open(ws)
        assert container.hub.socket_count == 1
        clock.advance(15)
        await _closed_normally(ws)
    assert container.hub.socket_count == 0
    assert container.hub.accounts.watched == 0


async def test_a_recalled_staff_cancel_reaches_the_open_socket_and_then_the_next_status(
    app, client, container
):
    _m, me, kitchen, order = await _scene(client, container)
    async with serve(app) as host, websockets.connect(_url(host, order, me)) as ws:
        assert (await _recv(ws))["status"] == "confirmed"
        await _status(client, kitchen, order["id"], "cancelled", reason="Ran out")
        msg = await _recv(ws)
        assert (msg["type"], msg["status"]) == ("order.status_changed", "cancelled")
        await _still_open(ws)
        await _recall(client, kitchen, order["id"])
        msg = await _recv(ws)
        assert (msg["type"], msg["status"]) == ("order.recalled", "confirmed")
        await _status(client, kitchen, order["id"], "preparing")
        msg = await _recv(ws)
        assert (msg["type"], msg["status"]) == ("order.status_changed", "preparing")
        await _still_open(ws)  # an open order: no window, no close


async def test_a_socket_opened_inside_the_window_stays_open_and_one_opened_after_closes(
    app, client, container, clock
):
    _m, me, kitchen, order = await _scene(client, container)
    for status in ("preparing", "ready"):
        await _status(client, kitchen, order["id"], status)
    await _handover(client, kitchen, order)
    async with serve(app) as host:
        async with websockets.connect(_url(host, order, me)) as ws:
            first = await _recv(ws)
            assert (first["type"], first["status"]) == ("order.snapshot", "completed")
            await _still_open(ws)
            await _recall(client, kitchen, order["id"])
            assert (await _recv(ws))["type"] == "order.recalled"
            await _handover(client, kitchen, order)
            assert (await _recv(ws))["status"] == "completed"
            clock.advance(WINDOW + 3)
            await _closed_normally(ws)
        async with websockets.connect(_url(host, order, me)) as ws:
            first = await _recv(ws)
            assert (first["type"], first["status"]) == ("order.snapshot", "completed")
            await _closed_normally(ws, 2.0)


async def test_a_status_nothing_can_undo_closes_the_socket_at_once(app, client, container):
    m, me, kitchen, order = await _scene(client, container)
    async with serve(app) as host:
        # Cancelled by the student: not the kitchen's move to recall.
        async with websockets.connect(_url(host, order, me)) as ws:
            assert (await _recv(ws))["status"] == "confirmed"
            r = await client.post(f"{API}/orders/{order['id']}/cancel", headers=bearer(me))
            assert r.status_code == 200, r.text
            msg = await _recv(ws)
            assert (msg["type"], msg["status"]) == ("order.status_changed", "cancelled")
            await _closed_normally(ws, 2.0)
        async with websockets.connect(_url(host, order, me)) as ws:
            assert (await _recv(ws))["status"] == "cancelled"
            await _closed_normally(ws, 2.0)
        # A staff cancel of a paid order: its refund starts at once, so it is final.
        paid = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
        async with container.sessionmaker() as s, s.begin():
            await s.execute(
                update(Order)
                .where(Order.id == uuid.UUID(paid["id"]))
                .values(payment_method="upi", payment_status="captured")
            )
        async with websockets.connect(_url(host, paid, me)) as ws:
            assert (await _recv(ws))["payment_status"] == "captured"
            await _status(client, kitchen, paid["id"], "cancelled", reason="Kitchen closing")
            msg = await _recv(ws)
            assert (msg["type"], msg["status"]) == ("order.status_changed", "cancelled")
            await _closed_normally(ws, 2.0)
    assert container.hub.socket_count == 0


async def test_the_account_re_check_still_closes_a_socket_in_its_recall_window(
    app, client, container
):
    _m, me, kitchen, order = await _scene(client, container)
    async with serve(app) as host, websockets.connect(_url(host, order, me)) as ws:
        assert (await _recv(ws))["status"] == "confirmed"
        await _status(client, kitchen, order["id"], "cancelled", reason="Ran out")
        assert (await _recv(ws))["status"] == "cancelled"
        assert container.hub.accounts.watched == 1
        async with container.sessionmaker() as s, s.begin():
            await s.execute(
                update(User).where(User.phone == "+919876500001").values(is_active=False)
            )
        with pytest.raises(websockets.ConnectionClosed):
            await _recv(ws, 10.0)
        assert (ws.close_code, ws.close_reason) == (4401, "INVALID_TOKEN")
    assert container.hub.socket_count == 0
