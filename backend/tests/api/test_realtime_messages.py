"""The realtime messages match their documented schemas (issue 13, point 13).

docs/realtime-messages.schema.json is generated from canteen.realtime.schemas; these tests
check it is current and validate real messages — captured from a live server's order
socket and both SSE streams — against the JSON Schemas in that file (not the pydantic
models), so the document consumers read is the one tested.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import jsonschema
import websockets
from live import serve
from orders_helpers import order_body, place, seed_menu

from canteen.realtime.schemas import DOC, render
from canteen_testkit.sse import read_sse
from conftest import API, bearer, login_customer, login_staff


def _validator(channel: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(DOC.read_text())[channel]
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _check(channel: str, messages: list[dict[str, Any]]) -> None:
    validator = _validator(channel)
    for message in messages:
        errors = [e.message for e in validator.iter_errors(message)]
        assert not errors, (message, errors)


def test_the_documented_schemas_are_current():
    assert DOC.read_text() == render(), (
        "docs/realtime-messages.schema.json is stale: run "
        "`.venv/bin/python -m canteen.realtime.schemas`"
    )


def test_the_schemas_refuse_what_is_not_sent():
    _validator("order_socket").validate({"type": "ping"})
    for wrong in (
        {"type": "pong"},
        {"type": "order.status_changed", "seq": 1},  # no order fields
        {"type": "ping", "extra": 1},
    ):
        assert not _validator("order_socket").is_valid(wrong), wrong
    assert not _validator("kitchen_stream").is_valid({"last_event_id": -1, "replay": False})


async def _status(client, staff, oid: str, status: str, **extra: Any) -> None:
    r = await client.patch(
        f"{API}/admin/orders/{oid}/status", json={"status": status, **extra}, headers=bearer(staff)
    )
    assert r.status_code == 200, r.text


async def test_order_socket_messages_match_the_schema(app, client, container, monkeypatch, clock):
    from canteen.realtime import endpoints

    monkeypatch.setattr(endpoints, "WS_HEARTBEAT_SECONDS", 0.3)
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    messages: list[dict[str, Any]] = []
    async with serve(app) as host:
        url = f"ws://{host}{API}/ws/orders/{order['id']}?token={me['access_token']}"
        async with websockets.connect(url) as ws:
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))  # snapshot
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))  # idle: ping
            for status in ("preparing", "ready"):
                await _status(client, kitchen, order["id"], status)
            await _status(
                client, kitchen, order["id"], "completed", pickup_code=order["pickup_code"]
            )
            clock.advance(5 * 60 + 3)  # past the handover's recall window: the socket closes
            try:
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if msg["type"] != "ping":
                        messages.append(msg)
            except websockets.ConnectionClosedOK:
                pass
    assert [m_["type"] for m_ in messages] == [
        "order.snapshot",
        "ping",
        "order.status_changed",
        "order.status_changed",
        "order.status_changed",
    ]
    _check("order_socket", messages)


async def test_kitchen_stream_messages_match_the_schema(app, client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    admin = await login_staff(client, container)
    async with (
        serve(app) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as http,
        http.stream(
            "GET", f"{API}/admin/orders/stream", params={"token": admin["access_token"]}
        ) as resp,
    ):
        reading = asyncio.create_task(read_sse(resp, 5))
        await asyncio.sleep(0.2)
        order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
        await _status(client, admin, order["id"], "preparing")
        r = await client.patch(
            f"{API}/admin/menu/items/{m.dosa}", json={"price": 6500}, headers=bearer(admin)
        )
        assert r.status_code == 200, r.text
        r = await client.patch(
            f"{API}/admin/config", json={"ordering_paused": True}, headers=bearer(admin)
        )
        assert r.status_code == 200, r.text
        frames = await reading
    assert [f["event"] for f in frames] == [
        "hello",
        "order.created",
        "order.status_changed",
        "menu.updated",
        "config.updated",
    ]
    assert all(f["event"] == f["data"].get("type", "hello") for f in frames)
    assert all(int(f["id"]) == f["data"]["seq"] for f in frames[1:])
    _check("kitchen_stream", [f["data"] for f in frames])


async def test_menu_stream_messages_match_the_schema(app, client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    admin = await login_staff(client, container)
    async with (
        serve(app) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as http,
        http.stream("GET", f"{API}/menu/stream", params={"token": me["access_token"]}) as resp,
    ):
        reading = asyncio.create_task(read_sse(resp, 3))
        await asyncio.sleep(0.2)
        r = await client.patch(
            f"{API}/admin/menu/items/{m.dosa}", json={"price": 6500}, headers=bearer(admin)
        )
        assert r.status_code == 200, r.text
        r = await client.patch(
            f"{API}/admin/config", json={"ordering_paused": True}, headers=bearer(admin)
        )
        assert r.status_code == 200, r.text
        frames = await reading
    assert [f["event"] for f in frames] == ["hello", "menu.updated", "config.updated"]
    _check("menu_stream", [f["data"] for f in frames])


async def test_streams_dropped_mid_read_leave_no_connection_behind(app, client, container, caplog):
    """Found by schemathesis: a client leaving while the stream read the event log left
    that read's connection unclosed; on SQLite it kept the database lock and every write
    then failed after 30 s. Drop both streams many times, then write."""
    import logging

    caplog.set_level(logging.ERROR, logger="sqlalchemy.pool")
    await seed_menu(container)
    me = await login_customer(client, container)
    admin = await login_staff(client, container)
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        for path, token in [("/admin/orders/stream", admin), ("/menu/stream", me)] * 15:
            async with http.stream(
                "GET", f"{API}{path}", params={"token": token["access_token"]}
            ) as resp:
                async for _ in resp.aiter_bytes():
                    break
        r = await client.patch(
            f"{API}/admin/config", json={"delivery_fee": 1500}, headers=bearer(admin), timeout=10
        )
        assert r.status_code == 200, r.text
    await asyncio.sleep(0.2)
    leaks = [r for r in caplog.records if "terminating connection" in r.getMessage()]
    assert not leaks, [r.getMessage() for r in leaks]
