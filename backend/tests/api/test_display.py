"""The order-status display (issue 17, part 2): display tokens, the board snapshot and the
PII-free display stream, a filter of the kitchen stream with replay by Last-Event-ID."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from typing import Any

import httpx
import pytest
import websockets
from live import serve
from orders_helpers import seed_menu
from sqlalchemy import select

from canteen.displays.models import DisplayToken
from canteen.orders.models import Order
from conftest import API, assert_error, bearer, count_rows, login_customer, login_staff

PHONE = "+919812345678"
NAME = "Ananya Krishnan"
NOTE = "no onion please"
INSTRUCTIONS = "call me at the gate"


async def _create_display(client: httpx.AsyncClient, admin: dict[str, Any], name: str) -> dict:
    r = await client.post(f"{API}/admin/displays", json={"name": name}, headers=bearer(admin))
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def _display(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _customer(client, container) -> dict[str, Any]:
    me = await login_customer(client, container, PHONE)
    r = await client.patch(f"{API}/users/me", json={"name": NAME}, headers=bearer(me))
    assert r.status_code == 200, r.text
    return me


async def _order(client, me, item: uuid.UUID, **extra: Any) -> dict[str, Any]:
    body = {
        "items": [{"menu_item_id": str(item), "quantity": 2, "notes": NOTE}],
        "order_type": "pickup",
        "payment_method": "cash",
        "time_slot": "allday",
        "instructions": INSTRUCTIONS,
        **extra,
    }
    headers = {**bearer(me), "X-Idempotency-Key": str(uuid.uuid4())}
    r = await client.post(f"{API}/orders", json=body, headers=headers)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def _move(client, staff, order: dict[str, Any], status: str) -> None:
    body: dict[str, Any] = {"status": status}
    if status == "completed":
        body["pickup_code"] = order["pickup_code"]
    r = await client.patch(
        f"{API}/admin/orders/{order['id']}/status", json=body, headers=bearer(staff)
    )
    assert r.status_code == 200, r.text


class RawStream:
    """Reads the display stream in the background, keeping the raw bytes too."""

    def __init__(self, http: httpx.AsyncClient, token: str, **headers: str) -> None:
        self.raw = b""
        self.events: list[dict[str, str]] = []
        self.status: int | None = None
        self._task = asyncio.create_task(self._read(http, token, headers))

    async def _read(self, http: httpx.AsyncClient, token: str, headers: dict[str, str]) -> None:
        async with http.stream(
            "GET",
            f"{API}/display/stream",
            params={"token": token},
            headers=headers,
            timeout=httpx.Timeout(10, read=60),
        ) as resp:
            self.status = resp.status_code
            buffer = b""
            async for chunk in resp.aiter_bytes():
                self.raw += chunk
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    fields = dict(
                        line.decode().split(": ", 1)
                        for line in block.split(b"\n")
                        if line and not line.startswith(b":") and b": " in line
                    )
                    if "data" in fields:
                        self.events.append(fields)

    def orders(self) -> list[dict[str, Any]]:
        return [json.loads(e["data"]) for e in self.events if e.get("event") == "display.order"]

    async def wait_for(self, predicate: Any, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            assert not self._task.done(), f"stream ended: {self.events}"
            assert time.monotonic() < deadline, f"not seen in {timeout} s: {self.events}"
            await asyncio.sleep(0.05)

    async def ended(self, timeout: float) -> None:
        await asyncio.wait_for(asyncio.shield(self._task), timeout)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


# ---- tokens: admins only, shown once, stored hashed, revocable ------------------------


async def test_admin_creates_lists_and_revokes_display_tokens(client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    created = await _create_display(client, admin, "Counter TV")
    token = created["token"]
    assert token.startswith("disp_") and len(token) > 40
    assert created["name"] == "Counter TV" and created["revoked_at"] is None
    assert token.startswith(created["hint"])
    async with container.sessionmaker() as s:
        row = await s.get(DisplayToken, uuid.UUID(created["id"]))
        assert row is not None
        # Only the hash is kept: the token itself is in no column.
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.name, row.hint, row.token_hash)
    r = await client.get(f"{API}/admin/displays", headers=bearer(admin))
    assert r.status_code == 200, r.text
    [listed] = r.json()["data"]
    assert listed["id"] == created["id"] and "token" not in listed
    r = await client.get(f"{API}/display/orders", headers=_display(token))
    assert r.status_code == 200, r.text

    r = await client.post(f"{API}/admin/displays/{created['id']}/revoke", headers=bearer(admin))
    assert r.status_code == 200, r.text
    revoked_at = r.json()["data"]["revoked_at"]
    assert revoked_at
    # Revoking again changes nothing; the revoked token opens nothing.
    r = await client.post(f"{API}/admin/displays/{created['id']}/revoke", headers=bearer(admin))
    assert r.status_code == 200 and r.json()["data"]["revoked_at"] == revoked_at
    err = assert_error(
        await client.get(f"{API}/display/orders", headers=_display(token)), 401, "INVALID_TOKEN"
    )
    assert "revoked" in err["message"]
    assert await count_rows(container, DisplayToken) == 1


async def test_display_token_admin_refusals_write_nothing(client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    me = await login_customer(client, container)
    for session in (kitchen, me):
        r = await client.post(f"{API}/admin/displays", json={"name": "TV"}, headers=bearer(session))
        err = assert_error(r, 403, "INSUFFICIENT_ROLE")
        assert err["details"] == [{"required_roles": ["admin"], "role": session["user"]["role"]}]
        assert_error(
            await client.get(f"{API}/admin/displays", headers=bearer(session)),
            403,
            "INSUFFICIENT_ROLE",
        )
    assert_error(
        await client.post(f"{API}/admin/displays", json={"name": "TV"}), 401, "INVALID_TOKEN"
    )
    for bad in ({"name": ""}, {}, {"name": "x" * 81}):
        err = assert_error(
            await client.post(f"{API}/admin/displays", json=bad, headers=bearer(admin)),
            400,
            "VALIDATION_ERROR",
        )
        assert err["details"] and err["details"][0]["field"].endswith("name"), err
    assert await count_rows(container, DisplayToken) == 0
    # Revoking: an unknown display is 404; kitchen staff may not revoke.
    created = await _create_display(client, admin, "Counter TV")
    err = assert_error(
        await client.post(f"{API}/admin/displays/{uuid.uuid4()}/revoke", headers=bearer(admin)),
        404,
        "NOT_FOUND",
    )
    assert err["message"] == "No display with this id" and err["details"] == []
    assert_error(
        await client.post(f"{API}/admin/displays/{created['id']}/revoke", headers=bearer(kitchen)),
        403,
        "INSUFFICIENT_ROLE",
    )
    async with container.sessionmaker() as s:
        rows = list(await s.scalars(select(DisplayToken)))
    assert len(rows) == 1 and rows[0].revoked_at is None


async def test_the_display_endpoints_take_only_display_tokens(client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    for headers, message in (
        ({}, "A display token is required"),
        (bearer(admin), "This is not a display token"),
        (_display("disp_" + "x" * 43), "This display token is not valid"),
    ):
        for path in ("/display/orders", "/display/stream"):
            err = assert_error(
                await client.get(f"{API}{path}", headers=headers), 401, "INVALID_TOKEN"
            )
            assert err["message"] == message and err["details"] == []
    token = (await _create_display(client, admin, "Counter TV"))["token"]
    err = assert_error(
        await client.get(
            f"{API}/display/stream", params={"token": token}, headers={"Last-Event-ID": "1e3"}
        ),
        400,
        "VALIDATION_ERROR",
    )
    assert err["details"] == [{"field": "Last-Event-ID", "issue": "invalid"}]


async def test_a_display_token_is_refused_everywhere_else(app, client, container):
    """It reads the display and nothing else: every other route refuses it as a token."""
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    me = await _customer(client, container)
    order = await _order(client, me, m.dosa)
    token = (await _create_display(client, admin, "Counter TV"))["token"]
    oid = order["id"]
    refused = [
        ("GET", "/orders", None),
        ("GET", f"/orders/{oid}", None),
        ("POST", f"/orders/{oid}/cancel", None),
        ("GET", "/users/me", None),
        ("GET", "/admin/orders", None),
        ("GET", f"/admin/orders/{oid}", None),
        ("PATCH", f"/admin/orders/{oid}/status", {"status": "preparing"}),
        ("GET", "/admin/staff", None),
        ("GET", "/admin/displays", None),
        ("POST", "/admin/displays", {"name": "Another TV"}),
        ("GET", "/admin/printing", None),
        ("PATCH", "/admin/config", {"ordering_paused": True}),
        ("GET", "/delivery/orders", None),
    ]
    for method, path, body in refused:
        r = await client.request(method, f"{API}{path}", json=body, headers=_display(token))
        err = assert_error(r, 401, "INVALID_TOKEN")
        assert err["details"] == [], (path, err)
    for path in ("/admin/orders/stream", "/menu/stream"):
        r = await client.get(f"{API}{path}", params={"token": token})
        assert_error(r, 401, "INVALID_TOKEN")
    async with (
        serve(app) as host,
        websockets.connect(f"ws://{host}{API}/ws/orders/{oid}?token={token}") as ws,
    ):
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 4401
    # Nothing moved or was made.
    async with container.sessionmaker() as s:
        row = await s.get(Order, uuid.UUID(oid))
        assert row is not None and row.status == "confirmed"
    assert await count_rows(container, DisplayToken) == 1


# ---- the board and its stream: numbers and statuses, nothing personal -----------------


async def test_display_shows_numbers_live_without_personal_data(app, client, container):
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    me = await _customer(client, container)
    token = (await _create_display(client, admin, "Counter TV"))["token"]
    first = await _order(client, me, m.dosa)
    await _move(client, kitchen, first, "preparing")
    delivery = await _order(
        client, me, m.chai, order_type="delivery", delivery_address="Hostel 4, room 12"
    )
    r = await client.get(f"{API}/display/orders", headers=_display(token))
    assert r.status_code == 200, r.text
    board = r.json()["data"]
    # Delivery orders are not collected at the counter: they are not shown.
    assert board["preparing"] == [
        {"order_id": first["id"], "order_number": first["number"], "status": "preparing"}
    ]
    assert board["ready"] == []
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        stream = RawStream(http, token, **{"Last-Event-ID": str(board["last_event_id"])})
        try:
            await stream.wait_for(lambda s: s.events and s.events[0]["event"] == "hello")
            second = await _order(client, me, m.chai)
            await _move(client, kitchen, first, "ready")
            await _move(client, kitchen, delivery, "preparing")
            await _move(client, kitchen, first, "completed")
            r = await client.post(f"{API}/orders/{second['id']}/cancel", headers=bearer(me))
            assert r.status_code == 200, r.text
            await stream.wait_for(lambda s: len(s.orders()) >= 4)
            await asyncio.sleep(0.3)  # anything else would have arrived by now
        finally:
            await stream.close()
    seen = [(o["order_number"], o["status"]) for o in stream.orders()]
    assert seen == [
        (second["number"], "confirmed"),
        (first["number"], "ready"),
        (first["number"], "completed"),
        (second["number"], "cancelled"),
    ]
    for event in stream.orders():
        assert set(event) == {"seq", "order_id", "order_number", "status"}
    raw = stream.raw
    for secret in (
        PHONE,
        PHONE[3:],
        NAME,
        NOTE,
        INSTRUCTIONS,
        "Hostel 4",
        "Masala Dosa",
        "Cutting Chai",
        first["pickup_code"],
        second["pickup_code"],
        delivery["number"],
    ):
        assert secret.encode() not in raw, secret
    assert b"customer" not in raw and b"items" not in raw and b"total" not in raw
    board = (await client.get(f"{API}/display/orders", headers=_display(token))).json()["data"]
    assert board["preparing"] == board["ready"] == []


async def test_display_stream_replays_from_last_event_id(app, client, container):
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    me = await _customer(client, container)
    token = (await _create_display(client, admin, "Counter TV"))["token"]
    order = await _order(client, me, m.dosa)
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        stream = RawStream(http, token)
        try:
            await stream.wait_for(lambda s: s.events and s.events[0]["event"] == "hello")
            await _move(client, kitchen, order, "preparing")
            await stream.wait_for(lambda s: len(s.orders()) == 1)
        finally:
            await stream.close()
        last_id = stream.events[-1]["id"]
        # The TV drops off the network; the order moves on twice; it comes back.
        await _move(client, kitchen, order, "ready")
        other = await _order(client, me, m.chai)
        resumed = RawStream(http, token, **{"Last-Event-ID": last_id})
        try:
            await resumed.wait_for(lambda s: len(s.orders()) >= 2)
            await asyncio.sleep(0.3)
        finally:
            await resumed.close()
    hello = json.loads(resumed.events[0]["data"])
    assert hello == {"last_event_id": int(last_id), "replay": True}
    assert [(o["order_number"], o["status"]) for o in resumed.orders()] == [
        (order["number"], "ready"),
        (other["number"], "confirmed"),
    ]
    ids = [int(e["id"]) for e in resumed.events[1:]]
    assert ids == sorted(ids) and ids[0] > int(last_id)


async def test_a_revoked_displays_stream_ends(app, client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    created = await _create_display(client, admin, "Counter TV")
    kept = await _create_display(client, admin, "Second TV")
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        stream = RawStream(http, created["token"])
        other = RawStream(http, kept["token"])
        try:
            for s in (stream, other):
                await s.wait_for(lambda s: s.events and s.events[0]["event"] == "hello")
            r = await client.post(
                f"{API}/admin/displays/{created['id']}/revoke", headers=bearer(admin)
            )
            assert r.status_code == 200, r.text
            await stream.ended(6.0)  # re-checked every 2 s
            assert b"revoked" in stream.raw
            assert not other._task.done()  # the other display keeps its stream
        finally:
            await stream.close()
            await other.close()
        r = await http.get(f"{API}/display/stream", params={"token": created["token"]})
        assert_error(r, 401, "INVALID_TOKEN")
    assert container.hub.displays.watched == 0
