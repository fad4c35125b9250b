"""Status-change delivery to WebSocket and SSE clients with many sockets open, and the
API's memory per WebSocket.

1. Background sockets: `bench.ws_holders` (a separate process on the load core) opens
   idle order-tracking sockets with the kitchen's token (staff may track any order),
   spread over the open orders in the database, up to each count (1,000, then 10,000).
2. At each count, probe orders (fresh cash orders, one customer) are tracked by one
   WebSocket each from this process, and the kitchen SSE stream is open; the kitchen
   moves each probe order preparing -> ready -> completed at a fixed pace. Every event
   carries its commit-side timestamp (`at`, written when the event is recorded); the
   delivery latency is receive time - `at` on the same clock, and also from the moment
   the kitchen's PATCH was sent ("tap to phone").
3. Memory: the API workers' RSS (/proc/<pid>/status) before the holders open anything and
   after each count; per socket = growth / sockets held.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from websockets.asyncio.client import connect

from bench import actors, infra
from bench.loadgen import pct
from bench.stack import Stack
from canteen_client.events import EventType

API = "/api/v1"


def parse_at(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class SseClient:
    """The kitchen stream: records (seq, type, at, received) for every event."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.token = token
        self.events: list[dict[str, Any]] = []
        self.hello: int | None = None
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.failure: str | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async with self.http.stream(
                "GET",
                f"{API}/admin/orders/stream",
                params={"token": self.token},
                timeout=httpx.Timeout(10.0, read=60.0),
            ) as r:
                r.raise_for_status()
                async for block, received in actors.sse_events(r.aiter_lines()):
                    if block.get("event") == "hello":
                        self.hello = int(block["id"])
                        self.ready.set()
                    elif "data" in block and "id" in block:
                        data = json.loads(block["data"])
                        self.events.append(
                            {
                                "seq": int(block["id"]),
                                "type": block.get("event"),
                                "order_id": data.get("order_id"),
                                "status": data.get("status"),
                                "at": parse_at(data["at"]),
                                "received": received,
                            }
                        )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failure = repr(exc)
            self.ready.set()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


class WsProbe:
    """One tracked order: every message with its receive time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.messages: list[dict[str, Any]] = []
        self.opened = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.close_code: int | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async with connect(self.url, compression=None, open_timeout=30) as ws:
                async for raw in ws:
                    received = time.time()
                    message = json.loads(raw)
                    message["_received"] = received
                    self.messages.append(message)
                    self.opened.set()
                self.close_code = ws.close_code
        except Exception:
            self.opened.set()


async def _open_orders(database_url: str, limit: int) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT id FROM orders WHERE status NOT IN ('completed', 'cancelled') "
            "ORDER BY created_at LIMIT $1",
            limit,
        )
    finally:
        await conn.close()
    return [str(r["id"]) for r in rows]


async def _probe_round(
    http: httpx.AsyncClient,
    s: Stack,
    kitchen: str,
    customer: str,
    item_id: str,
    sse: SseClient,
    n_orders: int,
    pace_s: float,
) -> dict[str, Any]:
    orders = [await actors.place_cash_order(http, customer, item_id) for _ in range(n_orders)]
    ws_base = s.base_url.replace("http://", "ws://") + API
    probes = {o["id"]: WsProbe(f"{ws_base}/ws/orders/{o['id']}?token={customer}") for o in orders}
    for p in probes.values():
        p.start()
    await asyncio.wait_for(asyncio.gather(*(p.opened.wait() for p in probes.values())), 60)
    await asyncio.sleep(0.3)
    sse_start = len(sse.events)
    sent_at: dict[tuple[str, str], float] = {}
    auth = {"Authorization": f"Bearer {kitchen}"}
    errors = 0
    t0 = time.monotonic()
    step = 0
    for target in ("preparing", "ready", "completed"):
        for o in orders:
            # Fixed pace, scheduled by the clock.
            await asyncio.sleep(max(0.0, t0 + step * pace_s - time.monotonic()))
            step += 1
            sent_at[(o["id"], target)] = time.time()
            if target == "completed":
                r = await http.post(
                    f"{API}/admin/orders/{o['id']}/handover",
                    json={"pickup_code": o["pickup_code"]},
                    headers=auth,
                )
            else:
                r = await http.patch(
                    f"{API}/admin/orders/{o['id']}/status", json={"status": target}, headers=auth
                )
            if r.status_code != 200:
                errors += 1
    # Wait (bounded) until every probe socket has had `completed` (the server keeps the
    # socket open for the handover's 5-minute recall window, so it does not end here).
    for _ in range(150):  # 15 s
        if all(any(m.get("status") == "completed" for m in p.messages) for p in probes.values()):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    ws_lat, ws_tap, missing = [], [], 0
    for oid, p in probes.items():
        got = {
            m.get("status"): m
            for m in p.messages
            if m.get("type") == EventType.order_status_changed
        }
        for target in ("preparing", "ready", "completed"):
            m = got.get(target)
            if m is None:
                missing += 1
                continue
            ws_lat.append(m["_received"] - parse_at(m["at"]))
            ws_tap.append(m["_received"] - sent_at[(oid, target)])
        if p.task and not p.task.done():
            p.task.cancel()
    probe_ids = set(probes)
    sse_events = [
        e
        for e in sse.events[sse_start:]
        if e["order_id"] in probe_ids and e["type"] == EventType.order_status_changed
    ]
    sse_lat = [e["received"] - e["at"] for e in sse_events]
    sse_tap = [e["received"] - sent_at[(e["order_id"], e["status"])] for e in sse_events]
    expected = 3 * n_orders
    return {
        "events": expected,
        "kitchen_errors": errors,
        "ws": _lat(ws_lat) | {"received": len(ws_lat), "missing": missing},
        "ws_tap_to_client": _lat(ws_tap),
        "sse": _lat(sse_lat) | {"received": len(sse_events), "missing": expected - len(sse_events)},
        "sse_tap_to_client": _lat(sse_tap),
        "pace_per_s": round(1 / pace_s, 1),
    }


def _lat(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50_ms": round(pct(values, 0.5) * 1000, 2),
        "p99_ms": round(pct(values, 0.99) * 1000, 2),
        "max_ms": round(values[-1] * 1000, 2) if values else float("nan"),
    }


class Holders:
    """The `bench.ws_holders` subprocess (inherits this process's load-core affinity)."""

    def __init__(self, ws_base: str, token: str, orders_file: Path, log: Path) -> None:
        self.log = log.open("ab")
        self.proc: asyncio.subprocess.Process  # set in start()
        self.args = [
            sys.executable,
            "-m",
            "bench.ws_holders",
            "--ws-base",
            ws_base,
            "--token",
            token,
            "--orders",
            str(orders_file),
            "--concurrency",
            "48",
        ]

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.args,
            cwd=infra.ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log,
        )

    async def ask(self, command: str, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        return dict(json.loads(line)) if line else {}

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.ask("close", 60)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.proc.wait(), 30)
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self.log.close()


async def fanout(s: Stack, work: Path, *, counts: list[int], probe_orders: int) -> dict[str, Any]:
    out: dict[str, Any] = {"counts": {}, "probe_orders": probe_orders}
    async with httpx.AsyncClient(base_url=s.base_url, timeout=60) as http:
        kitchen = await actors.staff_token(http)
        customer = await actors.customer_token(http, "+919760000001")
        items = [i for i in await actors.lunch_items(http) if i.get("daily_stock") is None]
        item_id = items[0]["id"]
        # Background orders for the idle sockets: the open orders already in the
        # database (the micro phase leaves thousands), topped up to 500.
        background = await _open_orders(s.database_url, 10_000)
        for _ in range(max(0, min(500, max(counts) // 2) - len(background))):
            background.append((await actors.place_cash_order(http, customer, item_id))["id"])
        orders_file = work / "ws-orders.txt"
        orders_file.write_text("\n".join(background) + "\n")
        out["background_orders"] = len(background)

        sse = SseClient(http, kitchen)
        sse.start()
        await asyncio.wait_for(sse.ready.wait(), 30)
        if sse.failure:
            raise RuntimeError(f"kitchen stream failed: {sse.failure}")
        pids = s.api_pids()
        await asyncio.sleep(1.0)
        rss0 = infra.total_rss_kb(pids)
        out["rss_before_kb"] = rss0
        ws_base = s.base_url.replace("http://", "ws://") + API
        holders = Holders(ws_base, kitchen, orders_file, work / "ws-holders.log")
        await holders.start()
        try:
            for count in counts:
                cpu_open, t_open = infra.total_cpu(pids), time.monotonic()
                opened = await holders.ask(f"open {count}", timeout=600)
                open_cpu = 100 * (infra.total_cpu(pids) - cpu_open) / (time.monotonic() - t_open)
                await asyncio.sleep(2.0)
                held = (await holders.ask("stats", 30)).get("held", 0)
                rss = infra.total_rss_kb(pids)
                cpu0 = infra.total_cpu(pids)
                await asyncio.sleep(3.0)
                idle_cpu = 100 * (infra.total_cpu(pids) - cpu0) / 3.0
                result = await _probe_round(
                    http, s, kitchen, customer, item_id, sse, probe_orders, pace_s=0.05
                )
                after = await holders.ask("stats", 30)
                out["counts"][str(count)] = {
                    "requested": count,
                    "held": held,
                    "open_seconds": opened.get("seconds"),
                    "open_server_cpu_pct": round(open_cpu, 1),
                    "open_holder_cpu_pct": opened.get("cpu_pct"),
                    "open_failures": opened.get("failed"),
                    "open_errors": opened.get("errors"),
                    "held_after_probe": after.get("held"),
                    "closed_by_server": after.get("closed_by_server"),
                    "rss_kb": rss,
                    "rss_per_socket_kb": round((rss - rss0) / held, 2) if held else None,
                    "idle_cpu_pct": round(idle_cpu, 1),
                    "per_worker_rss_kb": [infra.rss_kb(p) for p in pids],
                    **result,
                }
        finally:
            await holders.stop()
            await sse.stop()
    return out


class MenuListener:
    """One student's open menu: the live menu channel, every change with its receive time."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.token = token
        self.received: dict[int, float] = {}  # seq -> receive time
        self.at: dict[int, float] = {}
        self.ready = asyncio.Event()
        self.failure: str | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async with self.http.stream(
                "GET",
                f"{API}/menu/stream",
                params={"token": self.token},
                timeout=httpx.Timeout(30.0, read=120.0),
            ) as r:
                r.raise_for_status()
                async for block, received in actors.sse_events(r.aiter_lines()):
                    if block.get("event") == "hello":
                        self.ready.set()
                    elif block.get("event") == EventType.menu_updated and "data" in block:
                        data = json.loads(block["data"])
                        self.received[int(block["id"])] = received
                        self.at[int(block["id"])] = parse_at(data["at"])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failure = repr(exc)
            self.ready.set()

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task


async def menu_fanout(s: Stack, *, students: int, changes: int) -> dict[str, Any]:
    """How long a menu change takes to reach `students` open menus (issue 14): the manager
    switches a dish off and on `changes` times at 5 changes/s; latency = receive time -
    the event's `at`, over every (student, change), on the students' live menu channel."""
    limits = httpx.Limits(max_connections=students + 50, max_keepalive_connections=students + 50)
    async with httpx.AsyncClient(base_url=s.base_url, timeout=60, limits=limits) as http:
        admin = await actors.staff_token(http, actors.ADMIN_PHONE, actors.ADMIN_PASSWORD)
        token = await actors.customer_token(http, "+919760000002")
        item_id = (await actors.lunch_items(http))[0]["id"]
        t0 = time.monotonic()
        listeners = []
        for _ in range(students):  # opened in batches so the server is not a thundering herd
            listeners.append(MenuListener(http, token))
            if len(listeners) % 100 == 0:
                await asyncio.gather(*(x.ready.wait() for x in listeners[-100:]))
        await asyncio.wait_for(asyncio.gather(*(x.ready.wait() for x in listeners)), 120)
        open_s = round(time.monotonic() - t0, 1)
        failed = [x.failure for x in listeners if x.failure]
        errors = 0
        try:
            for i in range(changes):
                r = await http.patch(
                    f"{API}/admin/menu/items/{item_id}/availability",
                    json={"is_available": i % 2 == 1},
                    headers={"Authorization": f"Bearer {admin}"},
                )
                errors += r.status_code != 200
                await asyncio.sleep(0.2)
            await asyncio.sleep(3.0)
        finally:
            for x in listeners:
                await x.stop()
        expected = {seq for x in listeners for seq in x.received}
        latencies = [x.received[q] - x.at[q] for x in listeners for q in x.received]
        missing = sum(len(expected - set(x.received)) for x in listeners if not x.failure)
        return {
            "students": students,
            "changes": changes,
            "open_seconds": open_s,
            "open_failures": len(failed),
            "change_errors": errors,
            "changes_seen": len(expected),
            "delivered": len(latencies),
            "missing": missing,
            **_lat(latencies),
        }
