"""Order tracking: the WebSocket on a real server, reconnect back-off, polling fallback
(design §7.1, §13.3 "WebSocket connects and receives status updates")."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.server import serve as ws_serve
from websockets.datastructures import Headers
from websockets.http11 import Response

from canteen_client import (
    AuthFailure,
    CanteenClient,
    MemoryTokenStore,
    NotFoundFailure,
    Tokens,
)
from canteen_client.tracking import RECALL_WINDOW

from .sdk_harness import (
    RecordingSleep,
    free_port,
    live_api,
    make_api,
    seed_menu,
    serve,
    set_status,
    sign_in,
    staff_session,
)


async def next_state(tracker, timeout: float = 10.0):
    return await asyncio.wait_for(anext(tracker), timeout)


async def test_websocket_receives_status_updates(api, raw, container, app, clock):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    kitchen = await staff_session(raw, container, "kitchen", "+919000000201")
    order = await api.orders.place([(m.dosa, 1)], time_slot="allday")
    async with (
        live_api(app, token_store=api.token_store) as live,
        live.track(order.id) as tracker,
    ):
        first = await next_state(tracker)
        assert first.event == "order.snapshot" and first.source == "websocket"
        assert first.status == "confirmed" and first.payment_status == "cash_due"
        assert first.order is not None and first.order.pickup_code == order.pickup_code
        for status in ("preparing", "ready"):
            await set_status(raw, kitchen, order.id, status)
            state = await next_state(tracker)
            assert state.status == status and state.event == "order.status_changed"
            assert state.seq is not None and state.seq > (first.seq or 0)
        await set_status(raw, kitchen, order.id, "completed", pickup_code=order.pickup_code)
        last = await next_state(tracker)
        assert last.status == "completed" and last.is_terminal
        # A handover may be recalled for 5 minutes (test_sdk_recall.py); once that has
        # passed the server closes the socket and the tracker stops.
        clock.advance(5 * 60 + 3)
        with pytest.raises(StopAsyncIteration):
            await next_state(tracker)
        assert tracker.mode == "websocket" and tracker.delays == []


async def test_upi_payment_confirms_the_tracked_order(api, raw, container, app):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    order = await api.orders.place([(m.chai, 2)], payment_method="upi", time_slot="allday")
    assert order.payment is not None
    async with (
        live_api(app, token_store=api.token_store) as live,
        live.track(order.id) as tracker,
    ):
        first = await next_state(tracker)
        assert (first.status, first.payment_status) == ("received", "pending")
        paid = await api.payments.sandbox_pay(order.payment)
        confirmed = await live.payments.verify_result(order.id, paid.checkout_result)
        assert confirmed.status == "confirmed"
        state = await next_state(tracker)
        while state.status != "confirmed":
            state = await next_state(tracker)
        assert state.payment_status == "captured"


async def test_an_expired_token_is_refreshed_and_the_socket_reopened(
    api, raw, container, app, clock
):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    order = await api.orders.place([(m.dosa, 1)], time_slot="allday")
    clock.advance(3601)
    async with (
        live_api(app, token_store=api.token_store) as live,
        live.track(order.id) as tracker,
    ):
        first = await next_state(tracker)
        assert first.status == "confirmed"
        assert live.refresh_count == 1 and tracker.connections == 2
        assert tracker.delays == []  # a refresh is not a failure: no back-off


async def test_refusals_are_typed(api, raw, container, app):
    m = await seed_menu(container)
    await sign_in(api, raw, container, "+919876500001")
    order = await api.orders.place([(m.dosa, 1)], time_slot="allday")
    other, _ = make_api(app)
    async with other:
        await sign_in(other, raw, container, "+919876500002")
        async with serve(app) as host:
            async with CanteenClient(f"http://{host}", token_store=other.token_store) as live:
                # Someone else's order reads as no such order (the API does not say
                # whether it exists).
                with pytest.raises(NotFoundFailure):
                    await next_state(live.track(order.id))
                with pytest.raises(NotFoundFailure):
                    await next_state(live.track("00000000-0000-4000-8000-000000000000"))
            bad = MemoryTokenStore(Tokens("not-a-token", "not-a-refresh-token"))
            async with CanteenClient(f"http://{host}", token_store=bad) as live:
                with pytest.raises(AuthFailure) as invalid:
                    await next_state(live.track(order.id))
                assert invalid.value.signed_out and await bad.load() is None


def without_socket(app: Any, api: Any, sleep: RecordingSleep) -> tuple[Any, Any]:
    """The same account's SDK with the WebSocket port closed: the tracker backs off, then
    polls (its sleeps recorded and instant)."""
    return make_api(
        app,
        token_store=api.token_store,
        ws_base_url=f"ws://127.0.0.1:{free_port()}/api/v1",
        sleep=sleep,
    )


async def test_backoff_then_polling_fallback(api, raw, container, app):
    """The WebSocket port is closed but HTTP works: 10 reconnects with back-off
    1, 2, 4, 8, 16, 30, 30, 30, 30, 30 s, then polling GET /orders/{id}."""
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    kitchen = await staff_session(raw, container, "kitchen", "+919000000201")
    order = await api.orders.place([(m.dosa, 1)], time_slot="allday")
    steps = iter(["preparing", "ready", "completed"])
    tracker_box: list[Any] = []

    async def advance_kitchen(delay: float) -> None:
        if tracker_box and tracker_box[0].mode == "polling":
            status = next(steps, None)
            if status is None:
                return  # handed over: polling goes on for the recall window
            extra = {"pickup_code": order.pickup_code} if status == "completed" else {}
            await set_status(raw, kitchen, order.id, status, **extra)

    sleep = RecordingSleep(hook=advance_kitchen)
    polling, wire = without_socket(app, api, sleep)
    async with polling:
        tracker = polling.track(order.id, poll_interval=5)
        tracker_box.append(tracker)
        states = [s async for s in tracker]
    # A handover may be recalled for 5 minutes: polling goes on that long (60 polls of
    # 5 s), then stops.
    after = int(RECALL_WINDOW.total_seconds() / 5)
    assert sleep.delays == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30] + [5] * (3 + after)
    assert tracker.delays == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30]
    assert tracker.mode == "polling" and tracker.connections == 0
    assert [s.status for s in states] == ["confirmed", "preparing", "ready", "completed"]
    assert {s.source for s in states} == {"polling"}
    assert all(s.order is not None and s.order.id == order.id for s in states)
    assert len(wire.calls("GET", f"/api/v1/orders/{order.id}")) == 4 + after


async def test_polling_follows_a_recalled_handover_until_the_window_passes(
    api, raw, container, app
):
    """Without the socket, a recall within 5 minutes of the handover still reaches the
    student (the restored status, from a poll); polling then follows the next handover
    for its own 5 minutes and stops."""
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    kitchen = await staff_session(raw, container, "kitchen", "+919000000201")
    order = await api.orders.place([(m.dosa, 1)], time_slot="allday")
    for status in ("preparing", "ready"):
        await set_status(raw, kitchen, order.id, status)
    await set_status(raw, kitchen, order.id, "completed", pickup_code=order.pickup_code)
    polls: list[float] = []

    async def kitchen_moves(delay: float) -> None:
        if delay != 5:
            return  # still reconnecting
        polls.append(delay)
        if len(polls) == 3:  # 15 s after the handover was read
            r = await raw.post(
                f"/api/v1/admin/orders/{order.id}/recall",
                json={"reason": "Wrong student"},
                headers={"Authorization": f"Bearer {kitchen['access_token']}"},
            )
            assert r.status_code == 200, r.text
        if len(polls) == 5:
            await set_status(raw, kitchen, order.id, "completed", pickup_code=order.pickup_code)

    sleep = RecordingSleep(hook=kitchen_moves)
    polling, _ = without_socket(app, api, sleep)
    async with polling:
        states = [s async for s in polling.track(order.id, poll_interval=5)]
    assert [s.status for s in states] == ["completed", "ready", "completed"]
    assert states[1].payment_status == "cash_due"  # the cash counts as not taken again
    assert {s.source for s in states} == {"polling"}
    assert len(polls) == 5 + int(RECALL_WINDOW.total_seconds() / 5)


async def test_polling_stops_at_once_on_the_students_own_cancel(api, raw, container, app):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    order = await api.orders.place([(m.chai, 1)], time_slot="allday")
    await api.orders.cancel(order.id, "changed my mind")
    sleep = RecordingSleep()
    polling, wire = without_socket(app, api, sleep)
    async with polling:
        states = [s async for s in polling.track(order.id, poll_interval=5)]
    assert [s.status for s in states] == ["cancelled"]
    assert 5 not in sleep.delays  # no poll after the first read
    assert len(wire.calls("GET", f"/api/v1/orders/{order.id}")) == 1


def test_backoff_sequence_with_jitter():
    client = CanteenClient("http://h")
    plain = client.track("x")
    assert [plain.backoff(n) for n in range(1, 12)] == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30, 30]
    jittery = client.track("x", jitter=0.2)
    for n in range(1, 12):
        base = min(30, 2 ** (n - 1))
        assert 0.8 * base <= jittery.backoff(n) <= 1.2 * base


async def test_reconnect_resets_the_backoff_after_a_good_connection():
    """A scripted server: the first socket delivers the snapshot and drops; the next
    handshake fails; the third delivers the rest. Back-off: 1 s (after a good
    connection the count starts again), then 2 s."""
    connections = 0

    def process_request(connection, request):
        nonlocal connections
        connections += 1
        assert "token=access-1" in request.path
        if connections == 2:
            return Response(503, "Service Unavailable", Headers(), b"busy")
        return None

    async def handler(ws):
        if connections == 1:
            await ws.send(
                json.dumps(
                    {
                        "type": "order.snapshot",
                        "seq": 3,
                        "status": "confirmed",
                        "payment_status": "cash_due",
                    }
                )
            )
            await ws.close(code=1011, reason="going down")
            return
        await ws.send(json.dumps({"type": "ping"}))
        await ws.send(
            json.dumps(
                {
                    "type": "order.snapshot",
                    "seq": 4,
                    "status": "preparing",
                    "payment_status": "cash_due",
                }
            )
        )
        await ws.send(json.dumps({"type": "order.assigned", "seq": 5, "status": "preparing"}))
        await ws.send(json.dumps({"type": "order.status_changed", "seq": 6, "status": "ready"}))
        await ws.send(json.dumps({"type": "order.status_changed", "seq": 7, "status": "completed"}))
        await ws.close()

    sleep = RecordingSleep()
    async with ws_serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
        port = server.sockets[0].getsockname()[1]
        store = MemoryTokenStore(Tokens("access-1", "refresh-1"))
        async with CanteenClient(
            "http://127.0.0.1:9",
            ws_base_url=f"ws://127.0.0.1:{port}/api/v1",
            token_store=store,
            sleep=sleep,
        ) as client:
            states = [s async for s in client.track("order-1")]
    assert [(s.status, s.seq) for s in states] == [
        ("confirmed", 3),
        ("preparing", 4),
        ("ready", 6),
        ("completed", 7),
    ]
    assert states[-1].payment_status == "cash_due"  # carried over from the snapshot
    assert sleep.delays == [1, 2]


async def test_kitchen_update_reaches_the_consumer_by_websocket_and_push(api, raw, container, app):
    """§13.3: "Kitchen status update → consumer receives via WS + FCM" (the dev push
    provider's outbox stands in for FCM)."""
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    await api.devices.register("fcm-device-token-42")
    kitchen = await staff_session(raw, container, "kitchen", "+919000000201")
    order = await api.orders.place([(m.dosa, 1)], time_slot="allday")
    async with (
        live_api(app, token_store=api.token_store) as live,
        live.track(order.id) as tracker,
    ):
        assert (await next_state(tracker)).status == "confirmed"
        await set_status(raw, kitchen, order.id, "preparing")
        assert (await next_state(tracker)).status == "preparing"
        await set_status(raw, kitchen, order.id, "ready")
        assert (await next_state(tracker)).status == "ready"

    deadline = asyncio.get_running_loop().time() + 15
    while True:
        await container.jobs.drain()
        r = await raw.get(
            "/api/v1/dev/outbox", params={"channel": "push", "to": "fcm-device-token-42"}
        )
        pushes = [p["payload"]["data"] for p in r.json()["data"]]
        if any(p["status"] == "ready" for p in pushes):
            break
        assert asyncio.get_running_loop().time() < deadline, pushes
        await asyncio.sleep(0.1)
    ready = next(p for p in pushes if p["status"] == "ready")
    assert ready["order_id"] == order.id and ready["click_action"] == "ORDER_TRACKING"
