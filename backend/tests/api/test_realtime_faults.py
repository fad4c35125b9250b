"""Realtime under faults and account changes (issue 13, points 4 and 10).

Point 4: a kitchen stream or order socket ends within seconds of its account being
deactivated or given another role, on the process that holds it. Point 10: after its
Redis subscription comes back, each process delivers from the event log what it missed.
Servers are real (uvicorn, or `canteen serve` processes); faults are real (a private
redis-server is killed and started again).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets
from live import api_processes, serve
from orders_helpers import order_body, place, seed_menu
from sqlalchemy import select, update

from canteen.core.db import utcnow
from canteen.events.models import Event
from canteen.events.service import record_event
from canteen.users.models import User
from canteen_testkit.redis_server import PrivateRedis
from conftest import (
    API,
    BACKEND,
    assert_error,
    bearer,
    login_customer,
    login_staff,
    make_staff,
)

STAFF_PASSWORD = "staff-password-1"
# The account check runs every 2 s; allow for a busy machine.
ENDS_WITHIN = 10.0

needs_two_processes = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="two API processes need the shared Redis bus of the PostgreSQL run",
)


# ---- helpers ---------------------------------------------------------------------------


class SseReader:
    """Reads an SSE stream in the background: its events, and whether the server ended it."""

    def __init__(
        self, http: httpx.AsyncClient, token: str, path: str = "/admin/orders/stream"
    ) -> None:
        self.events: list[dict[str, Any]] = []
        self.comments: list[str] = []
        self.status: int | None = None
        self.ended_by_server = False
        self._task = asyncio.create_task(self._read(http, token, path))

    async def _read(self, http: httpx.AsyncClient, token: str, path: str) -> None:
        # A read timeout well above the 15 s heartbeat: only the server ends this stream.
        async with http.stream(
            "GET",
            f"{API}{path}",
            params={"token": token},
            timeout=httpx.Timeout(10, read=60),
        ) as resp:
            self.status = resp.status_code
            current: dict[str, str] = {}
            async for line in resp.aiter_lines():
                if line == "":
                    if "data" in current:
                        self.events.append(dict(current))
                    current.clear()
                elif line.startswith(":"):
                    self.comments.append(line)
                else:
                    key, _, value = line.partition(": ")
                    current[key] = value
        self.ended_by_server = True

    async def wait_for(self, predicate: Any, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.events):
            assert not self._task.done(), f"stream ended: {self.events} {self._task}"
            assert time.monotonic() < deadline, f"not seen in {timeout} s: {self.events}"
            await asyncio.sleep(0.05)

    async def ended(self, timeout: float) -> None:
        """The server ends the stream within `timeout` seconds."""
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            raise AssertionError(f"the stream is still open after {timeout} s") from None
        assert self.ended_by_server

    @property
    def open(self) -> bool:
        return not self._task.done()

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def statuses(self) -> list[str | None]:
        return _statuses(self.events)


async def _next_message(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if msg.get("type") != "ping":
            return msg


async def _closed_with(ws: Any, timeout: float) -> tuple[int | None, str | None]:
    """Read until the server closes the socket; the close code and reason."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the socket is still open after {timeout} s")
            msg = json.loads(await asyncio.wait_for(ws.recv(), left))
            assert msg.get("type") == "ping", msg  # nothing else once the account changed
    except websockets.ConnectionClosed:
        return ws.close_code, ws.close_reason
    except TimeoutError:
        raise AssertionError(f"the socket is still open after {timeout} s") from None


async def _staff_id(container: Any, phone: str) -> str:
    async with container.sessionmaker() as s:
        return str(await s.scalar(select(User.id).where(User.phone == phone)))


async def _set_account(container: Any, phone: str, **values: Any) -> None:
    """Change an account in the database, as an operator (or any code path) would."""
    async with container.sessionmaker() as s, s.begin():
        await s.execute(update(User).where(User.phone == phone).values(**values))


async def _patch_staff(http: httpx.AsyncClient, admin: dict, staff_id: str, **body: Any) -> None:
    r = await http.patch(f"{API}/admin/staff/{staff_id}", json=body, headers=bearer(admin))
    assert r.status_code == 200, r.text


# ---- point 4, one process (both backends) ----------------------------------------------


async def test_kitchen_stream_ends_when_its_account_is_deactivated(app, client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    kitchen_id = await _staff_id(container, "+919000000201")
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        stream = SseReader(http, kitchen["access_token"])
        try:
            await stream.wait_for(lambda events: events and events[0]["event"] == "hello")
            await _patch_staff(client, admin, kitchen_id, is_active=False)
            await stream.ended(ENDS_WITHIN)
        finally:
            await stream.close()
        assert stream.status == 200
        # The portal's reconnect is refused.
        r = await http.get(f"{API}/admin/orders/stream", params={"token": kitchen["access_token"]})
        assert_error(r, 401, "INVALID_TOKEN")


async def test_kitchen_stream_ends_when_its_role_changes(app, client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    kitchen_id = await _staff_id(container, "+919000000201")
    m = await seed_menu(container)
    me = await login_customer(client, container)
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        stream = SseReader(http, kitchen["access_token"])
        try:
            await stream.wait_for(lambda events: events and events[0]["event"] == "hello")
            await _patch_staff(client, admin, kitchen_id, role="delivery")
            await stream.ended(ENDS_WITHIN)
            seen = len(stream.events)
        finally:
            await stream.close()
        assert any("role_changed" in c for c in stream.comments), stream.comments
        # Nothing reaches the ended stream, and a delivery account may not open another.
        await place(client, me, order_body((m.dosa, 1)))
        assert len(stream.events) == seen
        r = await http.get(f"{API}/admin/orders/stream", params={"token": kitchen["access_token"]})
        assert_error(r, 403, "INSUFFICIENT_ROLE")


async def test_menu_stream_ends_when_its_account_is_deactivated(app, client, container):
    """The students' menu channel is signed in too: it ends with its account."""
    me = await login_customer(client, container, "+919876500001")
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        stream = SseReader(http, me["access_token"], path="/menu/stream")
        try:
            await stream.wait_for(lambda events: events and events[0]["event"] == "hello")
            await _set_account(container, "+919876500001", is_active=False)
            await stream.ended(ENDS_WITHIN)
        finally:
            await stream.close()
        assert any("deactivated" in c for c in stream.comments), stream.comments
        r = await http.get(f"{API}/menu/stream", params={"token": me["access_token"]})
        assert_error(r, 401, "INVALID_TOKEN")


async def test_order_socket_closes_when_the_customer_is_deactivated(app, client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container, "+919876500001")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    url_path = f"{API}/ws/orders/{order['id']}?token={me['access_token']}"
    async with serve(app) as host:
        async with websockets.connect(f"ws://{host}{url_path}") as ws:
            assert (await _next_message(ws))["type"] == "order.snapshot"
            # No endpoint deactivates customers: any path that does (here SQL) is honoured.
            await _set_account(container, "+919876500001", is_active=False)
            code, reason = await _closed_with(ws, ENDS_WITHIN)
        assert (code, reason) == (4401, "INVALID_TOKEN")
        async with websockets.connect(f"ws://{host}{url_path}") as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 4401
        await _wait(lambda: container.hub.accounts.watched == 0)


async def test_staff_order_socket_closes_on_role_change_and_deactivation(app, client, container):
    """Kitchen staff may watch any order's socket; it ends when the account changes."""
    m = await seed_menu(container)
    me = await login_customer(client, container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    kitchens = {}
    for phone in ("+919000000201", "+919000000202"):
        kitchens[phone] = await login_staff(client, container, "kitchen", phone)
    async with serve(app) as host:

        def url(phone: str) -> str:
            token = kitchens[phone]["access_token"]
            return f"ws://{host}{API}/ws/orders/{order['id']}?token={token}"

        async with (
            websockets.connect(url("+919000000201")) as re_roled,
            websockets.connect(url("+919000000202")) as deactivated,
        ):
            for ws in (re_roled, deactivated):
                assert (await _next_message(ws))["type"] == "order.snapshot"
            r1 = await _staff_id(container, "+919000000201")
            r2 = await _staff_id(container, "+919000000202")
            await _patch_staff(client, admin, r1, role="delivery")
            await _patch_staff(client, admin, r2, is_active=False)
            assert await _closed_with(re_roled, ENDS_WITHIN) == (4409, "ROLE_CHANGED")
            assert await _closed_with(deactivated, ENDS_WITHIN) == (4401, "INVALID_TOKEN")
        # Reconnecting as a delivery account: not an order it may watch.
        async with websockets.connect(url("+919000000201")) as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 4404


async def test_unchanged_accounts_keep_their_streams(app, client, container):
    """The check ends only what changed: a profile edit (the name) ends nothing."""
    container.hub.accounts.interval = 0.1
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        stream = SseReader(http, kitchen["access_token"])
        try:
            await stream.wait_for(lambda events: events and events[0]["event"] == "hello")
            await _set_account(container, "+919000000201", name="Renamed cook")
            rounds = container.hub.accounts.rounds
            await _wait(lambda: container.hub.accounts.rounds >= rounds + 3)
            assert stream.open
        finally:
            await stream.close()
        await _wait(lambda: container.hub.accounts.watched == 0)


async def _wait(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


# ---- point 10, the catch-up itself (both backends) -------------------------------------


async def test_hub_catch_up_delivers_what_the_bus_missed_once_and_in_order(container):
    """What a bus reconnect does: events committed while the subscription was away are
    delivered from the log after the last delivered seq, each once, in seq order."""
    order_id = uuid.uuid4()
    received: list[dict[str, Any]] = []
    async with container.sessionmaker() as s, s.begin():
        await record_event(s, "order.created", order_id=order_id, status="confirmed")
    await _wait(lambda: container.hub.position is not None and container.hub.delivered >= 1)
    delivered_before = container.hub.position
    await container.dispatcher.stop()  # from here the bus brings nothing
    lost_at = utcnow()
    async with container.sessionmaker() as s, s.begin():
        for status in ("preparing", "ready"):
            await record_event(s, "order.status_changed", order_id=order_id, status=status)
    with container.hub.order_subscription(str(order_id), received.append):
        # While Redis is away the bus reads the log at each attempt (live=False) ...
        assert await container.hub.catch_up(lost_at, live=False) == 2
        async with container.sessionmaker() as s, s.begin():
            await record_event(s, "order.status_changed", order_id=order_id, status="completed")
        assert await container.hub.catch_up(lost_at, live=False) == 1
        # ... and once more when it is back; nothing comes twice.
        assert await container.hub.catch_up(lost_at) == 0
    assert [m["status"] for m in received] == ["preparing", "ready", "completed"]
    seqs = [m["seq"] for m in received]
    assert seqs[0] > delivered_before and seqs == sorted(set(seqs))
    assert container.hub.position == seqs[-1]


# ---- Redis restarted under two API processes (PostgreSQL + Redis) ----------------------


async def _otp_login(http: httpx.AsyncClient, phone: str) -> dict[str, Any]:
    r = await http.post(f"{API}/auth/request-otp", json={"phone": phone})
    assert r.status_code == 200, r.text
    for _ in range(150):
        msgs = (await http.get(f"{API}/dev/outbox", params={"to": phone})).json()["data"]
        if msgs:
            break
        await asyncio.sleep(0.1)
    code = msgs[0]["body"][:6]
    r = await http.post(f"{API}/auth/verify-otp", json={"phone": phone, "otp": code})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def _staff_login(http: httpx.AsyncClient, phone: str) -> dict[str, Any]:
    r = await http.post(
        f"{API}/auth/staff-login", json={"phone": phone, "password": STAFF_PASSWORD}
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def _dispatched(container: Any, order_id: str, status: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        async with container.sessionmaker() as s:
            at = await s.scalar(
                select(Event.dispatched_at).where(
                    Event.order_id == uuid.UUID(order_id), Event.status == status
                )
            )
        if at is not None:
            return
        assert time.monotonic() < deadline, f"the {status} event was not handed to the bus"
        await asyncio.sleep(0.05)


@dataclass
class Scene:
    """An order placed through process A, watched on process B (its customer's socket and
    a kitchen stream); both processes on a private Redis."""

    private: PrivateRedis
    api_a: httpx.AsyncClient
    kitchen: dict[str, Any]
    order: dict[str, Any]
    ws: Any
    stream: SseReader


@asynccontextmanager
async def _order_watched_on_b(container, base_env, tmp_path) -> AsyncIterator[Scene]:
    # Only the API processes may hand events to their (private) bus: this test process's
    # dispatcher would publish them on the suite's shared Redis instead.
    await container.dispatcher.stop()
    m = await seed_menu(container)
    await make_staff(container, "kitchen", "+919000000201", STAFF_PASSWORD)
    private = PrivateRedis(tmp_path)
    private.start()
    # The bus and key-value store on the private Redis; jobs stay on the suite's broker.
    env = {**base_env, "CANTEEN_REDIS_URL": private.url()}
    try:
        with api_processes(env, tmp_path) as (a, b):
            async with (
                httpx.AsyncClient(base_url=f"http://{a.host}", timeout=10) as api_a,
                httpx.AsyncClient(base_url=f"http://{b.host}", timeout=10) as api_b,
            ):
                kitchen = await _staff_login(api_a, "+919000000201")
                me = await _otp_login(api_a, "+919876543210")
                r = await api_a.post(
                    f"{API}/orders",
                    json=order_body((m.dosa, 1)),
                    headers={**bearer(me), "X-Idempotency-Key": str(uuid.uuid4())},
                )
                assert r.status_code == 201, r.text
                order = r.json()["data"]
                await _dispatched(container, order["id"], "confirmed")
                stream = SseReader(api_b, kitchen["access_token"])
                url = f"ws://{b.host}{API}/ws/orders/{order['id']}?token={me['access_token']}"
                try:
                    async with websockets.connect(url) as ws:
                        assert (await _next_message(ws))["status"] == "confirmed"
                        await stream.wait_for(lambda ev: ev and ev[0]["event"] == "hello")
                        assert private.subscribers() == 2
                        yield Scene(private, api_a, kitchen, order, ws, stream)
                finally:
                    await stream.close()
    finally:
        private.kill()


@needs_two_processes
async def test_after_redis_restarts_a_process_catches_up_on_what_it_missed(
    base_env, settings, celery_worker, container, tmp_path
):
    """Issue 13, point 10: Redis is killed; a status change made through process A while
    it is down, and one made right after it is back (empty) while process B is still
    waiting to re-subscribe, reach B's order socket and kitchen stream once each, and live
    delivery carries on."""
    async with _order_watched_on_b(container, base_env, tmp_path) as scene:
        private, api_a, kitchen, order = scene.private, scene.api_a, scene.kitchen, scene.order
        ws, stream = scene.ws, scene.stream
        private.kill()
        killed = time.monotonic()
        # Redis down: a change made through A reaches B's clients all the same (B
        # follows the event log at each reconnect attempt: 0.5, 1.5, 3.5, 7.5 s ...).
        await asyncio.sleep(1)
        await _set_status(api_a, kitchen, order, "preparing")
        msg = await _next_message(ws, timeout=7)
        assert (msg["type"], msg["status"]) == ("order.status_changed", "preparing")
        await stream.wait_for(lambda events: "preparing" in _statuses(events), timeout=7)

        # Redis comes back (empty) between B's attempts at 7.5 s and 12.5 s, and a
        # change is made through A at once.
        await asyncio.sleep(9.5 - (time.monotonic() - killed))
        private.start()
        await _set_status(api_a, kitchen, order, "ready")
        await _dispatched(container, order["id"], "ready")
        # The fault really happened: the change went out on Redis with no process
        # subscribed, so B can only have it from the event log.
        assert private.subscribers() == 0
        msg = await _next_message(ws, timeout=15)
        assert (msg["type"], msg["status"]) == ("order.status_changed", "ready")
        await stream.wait_for(lambda events: "ready" in _statuses(events))

        # Live again: the last change arrives once, and nothing came twice.
        await _wait(lambda: private.subscribers() == 2)
        await _set_status(api_a, kitchen, order, "completed", pickup_code=order["pickup_code"])
        msg = await _next_message(ws, timeout=5)
        assert (msg["type"], msg["status"]) == ("order.status_changed", "completed")
        # The socket stays open: a handover may be recalled for 5 minutes (these processes
        # run on the real clock; test_recall_tracking.py checks the close after it).
        await stream.wait_for(lambda events: "completed" in _statuses(events), timeout=5)
        await asyncio.sleep(1.5)  # any duplicate would have arrived by now
    _assert_once_in_order(stream, ["preparing", "ready", "completed"])


@needs_two_processes
async def test_a_frozen_redis_stalls_neither_the_outbox_nor_another_process(
    base_env, settings, celery_worker, container, tmp_path
):
    """Redis stops answering but keeps its connections open (SIGSTOP: a hung server, or a
    network dropping packets). A change made through A still reaches B's socket and
    kitchen stream within seconds, and once Redis answers again delivery is live, once."""
    async with _order_watched_on_b(container, base_env, tmp_path) as scene:
        private, api_a, kitchen, order = scene.private, scene.api_a, scene.kitchen, scene.order
        ws, stream = scene.ws, scene.stream
        private.freeze()
        try:
            await _set_status(api_a, kitchen, order, "preparing")
            # B notices within two idle periods (5 s each) and reads the event log.
            msg = await _next_message(ws, timeout=20)
            assert (msg["type"], msg["status"]) == ("order.status_changed", "preparing")
            await stream.wait_for(lambda events: "preparing" in _statuses(events), timeout=20)
        finally:
            private.thaw()
        # A's outbox was not stuck on its publish: it goes out once Redis answers.
        await _dispatched(container, order["id"], "preparing", timeout=20)
        await _wait(lambda: private.subscribers() == 2, timeout=20)
        await _set_status(api_a, kitchen, order, "ready")
        msg = await _next_message(ws, timeout=5)
        assert (msg["type"], msg["status"]) == ("order.status_changed", "ready")
        await stream.wait_for(lambda events: "ready" in _statuses(events), timeout=5)
        await asyncio.sleep(1.5)  # any duplicate would have arrived by now
        with pytest.raises(TimeoutError):
            await _next_message(ws, timeout=0.5)
    _assert_once_in_order(stream, ["preparing", "ready"])


def _assert_once_in_order(stream: SseReader, statuses: list[str]) -> None:
    assert stream.statuses() == statuses
    ids = [int(e["id"]) for e in stream.events[1:]]
    assert ids == sorted(set(ids)), ids


async def _set_status(http: httpx.AsyncClient, staff: dict, order: dict, status: str, **extra):
    r = await http.patch(
        f"{API}/admin/orders/{order['id']}/status",
        json={"status": status, **extra},
        headers=bearer(staff),
    )
    assert r.status_code == 200, r.text


def _statuses(events: list[dict[str, Any]]) -> list[str | None]:
    return [
        json.loads(e["data"]).get("status")
        for e in events
        if e.get("event") == "order.status_changed"
    ]


# ---- point 4 across processes (PostgreSQL + Redis) -------------------------------------


@needs_two_processes
async def test_account_changes_end_streams_held_by_another_process(
    base_env, settings, celery_worker, container
):
    """Streams and sockets held by process B end when the admin changes the accounts
    through process A (and a customer is deactivated in the database)."""
    m = await seed_menu(container)
    await make_staff(container, "admin", "+919000000101", STAFF_PASSWORD)
    await make_staff(container, "kitchen", "+919000000201", STAFF_PASSWORD)
    await make_staff(container, "kitchen", "+919000000202", STAFF_PASSWORD)
    with api_processes(base_env, settings.data_dir) as (a, b):
        async with (
            httpx.AsyncClient(base_url=f"http://{a.host}", timeout=10) as api_a,
            httpx.AsyncClient(base_url=f"http://{b.host}", timeout=10) as api_b,
        ):
            admin = await _staff_login(api_a, "+919000000101")
            deactivated = await _staff_login(api_a, "+919000000201")
            re_roled = await _staff_login(api_a, "+919000000202")
            me = await _otp_login(api_a, "+919876543210")
            r = await api_a.post(
                f"{API}/orders",
                json=order_body((m.dosa, 1)),
                headers={**bearer(me), "X-Idempotency-Key": str(uuid.uuid4())},
            )
            assert r.status_code == 201, r.text
            order = r.json()["data"]
            streams = [SseReader(api_b, s["access_token"]) for s in (deactivated, re_roled)]
            url = f"ws://{b.host}{API}/ws/orders/{order['id']}?token={me['access_token']}"
            try:
                async with websockets.connect(url) as ws:
                    assert (await _next_message(ws))["type"] == "order.snapshot"
                    for stream in streams:
                        await stream.wait_for(lambda ev: ev and ev[0]["event"] == "hello")
                    started = time.monotonic()
                    await _patch_staff(api_a, admin, deactivated["user"]["id"], is_active=False)
                    await _patch_staff(api_a, admin, re_roled["user"]["id"], role="delivery")
                    await _set_account(container, "+919876543210", is_active=False)
                    for stream in streams:
                        await stream.ended(ENDS_WITHIN)
                    assert await _closed_with(ws, ENDS_WITHIN) == (4401, "INVALID_TOKEN")
                    assert time.monotonic() - started < ENDS_WITHIN
            finally:
                for stream in streams:
                    await stream.close()
