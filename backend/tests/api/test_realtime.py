"""Realtime: order tracking over WebSocket, the kitchen SSE feed, the outbox (issue #6)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
import websockets
from live import serve
from orders_helpers import order_body, place, seed_menu
from sqlalchemy import select

from canteen.events.models import Event
from canteen.events.service import record_event
from canteen_testkit.sse import read_sse
from conftest import API, BACKEND, assert_error, bearer, login_customer, login_staff


async def _recv(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if msg.get("type") != "ping":
            return msg


async def _status(client, staff, oid, status, **extra):
    r = await client.patch(
        f"{API}/admin/orders/{oid}/status", json={"status": status, **extra}, headers=bearer(staff)
    )
    assert r.status_code == 200, r.text
    return r


async def test_websocket_tracks_an_order_to_completion(app, client, container, clock):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    async with serve(app) as host:
        url = f"ws://{host}{API}/ws/orders/{order['id']}?token={me['access_token']}"
        async with websockets.connect(url) as ws:
            first = await _recv(ws)
            assert first["type"] == "order.snapshot" and first["status"] == "confirmed"
            assert first["order"]["pickup_code"] == order["pickup_code"]
            for status in ("preparing", "ready"):
                await _status(client, kitchen, order["id"], status)
                msg = await _recv(ws)
                assert msg["type"] == "order.status_changed" and msg["status"] == status
                assert msg["order_id"] == order["id"] and msg["order_number"] == order["number"]
            await _status(
                client, kitchen, order["id"], "completed", pickup_code=order["pickup_code"]
            )
            msg = await _recv(ws)
            assert msg["status"] == "completed"
            # A handover may be recalled for 5 minutes: the socket closes once it is final
            # (test_recall_tracking.py).
            clock.advance(5 * 60 + 3)
            with pytest.raises(websockets.ConnectionClosedOK):
                await _recv(ws)
            assert ws.close_code == 1000


async def test_websocket_refusals_carry_close_codes(app, client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container, "+919876500001")
    other = await login_customer(client, container, "+919876500002")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    async with serve(app) as host:
        cases = [
            (f"/ws/orders/{order['id']}?token=not-a-token", 4401),
            (f"/ws/orders/{order['id']}", 4401),
            (f"/ws/orders/{order['id']}?token={other['access_token']}", 4404),
            (f"/ws/orders/{uuid.uuid4()}?token={me['access_token']}", 4404),
            (f"/ws/orders/not-a-uuid?token={me['access_token']}", 4404),
        ]
        for path, code in cases:
            async with websockets.connect(f"ws://{host}{API}{path}") as ws:
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 5)
                assert ws.close_code == code, path


async def test_order_socket_answers_not_yours_like_does_not_exist(app, client, container):
    """Issue 13, point 5: order ids cannot be probed through the socket's close code."""
    m = await seed_menu(container)
    me = await login_customer(client, container, "+919876500001")
    other = await login_customer(client, container, "+919876500002")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    token = other["access_token"]
    closes = []
    async with serve(app) as host:
        for order_id in (order["id"], str(uuid.uuid4())):
            async with websockets.connect(
                f"ws://{host}{API}/ws/orders/{order_id}?token={token}"
            ) as ws:
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 5)
                closes.append((ws.close_code, ws.close_reason))
    assert closes[0] == closes[1] == (4404, "no such order")


async def test_websocket_for_a_finished_order_sends_state_and_closes(app, client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    await client.post(f"{API}/orders/{order['id']}/cancel", headers=bearer(me))
    async with (
        serve(app) as host,
        websockets.connect(
            f"ws://{host}{API}/ws/orders/{order['id']}?token={me['access_token']}"
        ) as ws,
    ):
        first = await _recv(ws)
        assert first["status"] == "cancelled"
        with pytest.raises(websockets.ConnectionClosedOK):
            await _recv(ws)


async def _wait_for(predicate, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def _my_new_order(client, container) -> tuple[dict[str, Any], dict[str, Any]]:
    """A customer's session and a fresh cash order of theirs."""
    m = await seed_menu(container)
    me = await login_customer(client, container)
    return me, (await place(client, me, order_body((m.dosa, 1)))).json()["data"]


def _tracking_url(host: str, order: dict[str, Any], me: dict[str, Any]) -> str:
    return f"ws://{host}{API}/ws/orders/{order['id']}?token={me['access_token']}"


async def test_idle_socket_gets_pings_and_is_released_when_the_client_leaves(
    app, client, container, monkeypatch
):
    from canteen.realtime import endpoints

    monkeypatch.setattr(endpoints, "WS_HEARTBEAT_SECONDS", 0.2)
    me, order = await _my_new_order(client, container)
    async with serve(app) as host:
        async with websockets.connect(_tracking_url(host, order, me)) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "order.snapshot"
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "ping"}
            await ws.send("anything")  # client frames are read and ignored
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "ping"}
            assert container.hub.socket_count == 1
        await _wait_for(lambda: container.hub.socket_count == 0)


async def test_a_client_too_far_behind_is_closed_not_buffered(app, client, container):
    from canteen.realtime.endpoints import WS_MAX_PENDING

    me, order = await _my_new_order(client, container)
    async with serve(app) as host:
        async with websockets.connect(_tracking_url(host, order, me)) as ws:
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), 5))
            # More events than a socket may hold, all before its sender gets to run.
            for n in range(WS_MAX_PENDING + 1):
                container.hub.deliver(
                    {
                        "id": str(uuid.uuid4()),
                        "seq": snapshot["seq"] + 1 + n,
                        "type": "order.payment_updated",
                        "order_id": order["id"],
                    }
                )
            with pytest.raises(websockets.ConnectionClosed):
                await _recv(ws)
            assert ws.close_code == 1013
        await _wait_for(lambda: container.hub.socket_count == 0)


async def test_kitchen_stream_live_and_replay_without_gaps_or_repeats(app, client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        async with http.stream(
            "GET", f"{API}/admin/orders/stream", params={"token": kitchen["access_token"]}
        ) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            hello_task = asyncio.create_task(read_sse(resp, 3, decode=False))
            await asyncio.sleep(0.2)
            o1 = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
            await _status(client, kitchen, o1["id"], "preparing")
            events = await hello_task
        assert [e["event"] for e in events] == ["hello", "order.created", "order.status_changed"]
        created = json.loads(events[1]["data"])
        assert created["order_number"] == o1["number"] and created["data"]["items"]
        last_id = events[2]["id"]
        # The portal drops off; three things happen; it comes back with Last-Event-ID.
        await _status(client, kitchen, o1["id"], "ready")
        o2 = (await place(client, me, order_body((m.chai, 2)))).json()["data"]
        await client.post(f"{API}/orders/{o2['id']}/cancel", headers=bearer(me))
        async with http.stream(
            "GET",
            f"{API}/admin/orders/stream",
            params={"token": kitchen["access_token"]},
            headers={"Last-Event-ID": last_id},
        ) as resp:
            replay = await read_sse(resp, 4, decode=False)
        kinds = [(e["event"], json.loads(e["data"]).get("status")) for e in replay[1:]]
        assert kinds == [
            ("order.status_changed", "ready"),
            ("order.created", "confirmed"),
            ("order.status_changed", "cancelled"),
        ]
        ids = [int(e["id"]) for e in replay[1:]]
        assert ids == sorted(ids) and ids[0] > int(last_id)


async def test_kitchen_stream_refuses_customers_before_streaming(client, container):
    me = await login_customer(client, container)
    r = await client.get(f"{API}/admin/orders/stream", params={"token": me["access_token"]})
    assert_error(r, 403, "INSUFFICIENT_ROLE")
    r = await client.get(f"{API}/admin/orders/stream", params={"token": "junk"})
    assert_error(r, 401, "INVALID_TOKEN")
    r = await client.get(f"{API}/admin/orders/stream")
    assert_error(r, 401, "INVALID_TOKEN")


async def test_events_committed_but_never_delivered_are_delivered_by_the_next_process(
    container, settings
):
    """A process dies between commit and delivery: the event waits in the outbox."""
    from canteen.bootstrap import build_container

    order_id = uuid.uuid4()
    await container.dispatcher.stop()  # this "process" dies: nothing delivers for it
    async with container.sessionmaker() as s, s.begin():
        # No dispatcher kick: as if the process died right after this commit.
        await record_event(
            s,
            "order.status_changed",
            order_id=order_id,
            status="ready",
            order_number="ORD-20261125-999",
        )
    fresh = build_container(settings)
    received: asyncio.Queue[dict] = asyncio.Queue()
    with fresh.hub.order_subscription(str(order_id), received.put_nowait):
        await fresh.start()
        try:
            msg = await asyncio.wait_for(received.get(), 5)
        finally:
            await fresh.close()
    assert msg["status"] == "ready" and msg["order_id"] == str(order_id)
    async with container.sessionmaker() as s:
        event = (await s.scalars(select(Event).where(Event.order_id == order_id))).one()
        assert event.dispatched_at is not None


@pytest.mark.skipif(
    BACKEND != "postgres", reason="SQLite runs one writer at a time: no transactions to interleave"
)
async def test_event_seq_is_commit_order_not_insert_order(container):
    """SSE replay resumes after a seq: an event recorded first but committed last must get
    the higher seq, or a reader that already saw the other one would skip it for good."""
    first, second = uuid.uuid4(), uuid.uuid4()
    async with container.sessionmaker() as slow, container.sessionmaker() as fast:
        await slow.begin()
        await record_event(slow, "order.status_changed", order_id=first, status="preparing")
        await slow.flush()
        async with fast.begin():
            await record_event(fast, "order.status_changed", order_id=second, status="ready")
        await slow.commit()  # committed while the other one was not waiting for it
    async with container.sessionmaker() as s:
        seqs = {
            e.order_id: e.seq
            for e in await s.scalars(select(Event).where(Event.order_id.in_([first, second])))
        }
    assert seqs[second] < seqs[first]


async def test_duplicate_deliveries_are_dropped_by_event_id(container):
    order_id = str(uuid.uuid4())
    message = {
        "id": str(uuid.uuid4()),
        "seq": 1,
        "type": "order.status_changed",
        "order_id": order_id,
        "status": "ready",
    }
    received: list[dict] = []
    with container.hub.order_subscription(order_id, received.append):
        container.hub.deliver(message)
        container.hub.deliver(dict(message))
    assert received == [message]


async def test_malformed_last_event_id_is_refused(client, container):
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    # Issue 13, point 11: 1e23 written out (beyond 64 bits) ended the stream after 200;
    # anything int() takes that is not a plain seq is refused too.
    too_big = ["100000000000000000000000", "9223372036854775808"]
    odd = ["1e23", "-5", "+5", "1_000", "", "12.0"]
    cases = [({"Last-Event-ID": "abc"}, {}), ({}, {"last_event_id": "1e9x"})]
    cases += [({"Last-Event-ID": v}, {}) for v in too_big + odd]
    cases += [({}, {"last_event_id": v}) for v in [*too_big, " 7", "\u0661\u0662"]]
    for headers, params in cases:
        r = await client.get(
            f"{API}/admin/orders/stream",
            params={"token": kitchen["access_token"], **params},
            headers=headers,
        )
        err = assert_error(r, 400, "VALIDATION_ERROR")
        assert err["details"][0]["field"] == "Last-Event-ID"


async def test_the_largest_seq_is_a_valid_last_event_id(app, client, container):
    """The refusal above stops at malformed ids: the largest 64-bit seq streams normally."""
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    largest = str(2**63 - 1)
    async with (
        serve(app) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as http,
        http.stream(
            "GET",
            f"{API}/admin/orders/stream",
            params={"token": kitchen["access_token"]},
            headers={"Last-Event-ID": largest},
        ) as resp,
    ):
        assert resp.status_code == 200
        (hello,) = await read_sse(resp, 1, decode=False)
    assert hello["event"] == "hello" and hello["id"] == largest
    assert json.loads(hello["data"]) == {"last_event_id": 2**63 - 1, "replay": True}


async def test_kitchen_status_change_reaches_the_customer_by_push(client, container):
    """Design §13.3, last item: the same change goes out by WebSocket (above) and by push."""
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    r = await client.post(
        f"{API}/users/device-token",
        json={"token": "device-token-" + "x" * 40, "platform": "android"},
        headers=bearer(me),
    )
    assert r.status_code == 200
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    await _status(client, kitchen, order["id"], "preparing")
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        pushes = (await client.get(f"{API}/dev/outbox", params={"channel": "push"})).json()["data"]
        mine = [p for p in pushes if p["payload"]["data"]["status"] == "preparing"]
        if mine:
            break
        assert asyncio.get_running_loop().time() < deadline, pushes
        await asyncio.sleep(0.1)
    data = mine[0]["payload"]["data"]
    assert data == {
        "type": "order_status",
        "order_id": order["id"],
        "status": "preparing",
        "click_action": "ORDER_TRACKING",
    }
