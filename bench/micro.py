"""Micro-benchmarks against the ceilings: menu `GET` (200 and 304) vs the read ceiling,
`POST /orders` vs the write ceiling. Same worker count, CPU pinning and uvicorn settings
for the app and its ceiling; the generator runs in this process (pinned to the load core).

Method per (path, target):
  1. warm up, then probe capacity with a short closed loop;
  2. capacity: open-model runs offered 1.2x the target's own probed capacity, alternating
     app and ceiling for `rounds` rounds (drift hits both alike); throughput = responses
     completed inside the window / window; the headline is the median ratio app/ceiling;
  3. latency: one open-model run on each at the same rate (half the app's capacity);
     p50/p99 from each request's scheduled time.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from bench import actors, infra, pg
from bench.loadgen import LoadResult, closed_loop, open_model
from bench.menu import request_bytes
from bench.stack import Stack

MENU_PATH = "/api/v1/menu/items"


def post_bytes(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "User-Agent: canteen-bench",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def settle(pids: list[int], idle_pct: float = 15.0, limit_s: float = 10.0) -> None:
    """Wait until the servers have worked off the last run's backlog."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while loop.time() < deadline:
        before = infra.total_cpu(pids)
        await asyncio.sleep(0.3)
        if 100 * (infra.total_cpu(pids) - before) / 0.3 < idle_pct:
            return


class Target:
    def __init__(self, name: str, port: int, pids: list[int], make: Any, expect: set[int]):
        self.name = name
        self.port = port
        self.pids = pids
        self.make = make
        self.expect = frozenset(expect)


async def compare(
    kind: str,
    targets: list[Target],
    *,
    duration: float,
    rounds: int,
    connections: int,
    latency_base: str,
    database_url: str | None = None,
    jobs_pid: int | None = None,
) -> dict[str, Any]:
    """Capacity and latency of each target on one path; returns the summary and runs.
    With `database_url`, PostgreSQL's CPU (its backends of that database) is read over
    each run too, for the CPU per request on both sides. With `jobs_pid` (the Celery
    worker), its process tree's CPU per request too. Every capacity run also reads how
    busy the servers' core was: the core every server shares is what caps the rate."""
    runs: list[LoadResult] = []
    pg_cpu: list[float] = []  # PostgreSQL CPU seconds of each run, in the order of `runs`
    side: list[tuple[float, float]] = []  # (jobs CPU s, server core busy s) of each run
    probes: dict[str, float] = {}
    for t in targets:  # warm-up: caches, pools, connections
        await closed_loop(t.port, t.make, t.expect, 1.0, connections)
        await settle(t.pids)
    for t in targets:
        probes[t.name] = await closed_loop(t.port, t.make, t.expect, 2.0, connections)
        await settle(t.pids)
    for _ in range(rounds):
        for t in targets:
            meter = pg.PgCpu(database_url) if database_url else None
            if meter:
                await meter.start()
            jobs_before = infra.tree_cpu(jobs_pid) if jobs_pid else float("nan")
            core_before = infra.cpu_busy_ticks(infra_cpus())[0]
            runs.append(
                await open_model(
                    t.port,
                    t.pids,
                    t.make,
                    t.expect,
                    probes[t.name] * 1.2,
                    duration,
                    connections,
                    target=t.name,
                    kind=kind,
                    mode="capacity",
                )
            )
            pg_cpu.append(await meter.stop() if meter else float("nan"))
            side.append(
                (
                    (infra.tree_cpu(jobs_pid) if jobs_pid else float("nan")) - jobs_before,
                    (infra.cpu_busy_ticks(infra_cpus())[0] - core_before) / infra.CLK_TCK,
                )
            )
            await settle(t.pids)
    rate = 0.5 * probes[latency_base]
    for t in targets:
        pg_cpu.append(float("nan"))
        side.append((float("nan"), float("nan")))
        runs.append(
            await open_model(
                t.port,
                t.pids,
                t.make,
                t.expect,
                rate,
                duration,
                connections,
                target=t.name,
                kind=kind,
                mode="latency",
            )
        )
        await settle(t.pids)
    summary: dict[str, Any] = {"probe_rps": {k: round(v, 1) for k, v in probes.items()}}
    for t in targets:
        cap = [r.throughput_rps for r in runs if r.target == t.name and r.mode == "capacity"]
        lat = next(r for r in runs if r.target == t.name and r.mode == "latency")
        summary[t.name] = {
            "throughput_rps": statistics.median(cap),
            "latency_rate_rps": lat.offered_rps,
            "p50_ms": lat.p50_ms,
            "p99_ms": lat.p99_ms,
            "errors": sum(r.errors for r in runs if r.target == t.name),
            "server_cpu_pct": statistics.median(
                r.server_cpu_pct for r in runs if r.target == t.name and r.mode == "capacity"
            ),
        }
        summary[t.name].update(_per_request(t.name, runs, pg_cpu, side))
    return {"summary": summary, "runs": [asdict(r) for r in runs]}


def _per_request(
    name: str, runs: list[LoadResult], pg_cpu: list[float], side: list[tuple[float, float]]
) -> dict[str, Any]:
    """CPU milliseconds per answered request at capacity (median over the rounds): the
    target's own process(es), PostgreSQL's backends, the job worker, and the servers'
    core as a whole (whatever ran on it: the sum of the rest, Redis and the sandbox)."""
    api: list[float] = []
    per_answer: dict[str, list[float]] = {"pg": [], "jobs": [], "core": []}
    for run, pg_s, (jobs_s, core_s) in zip(runs, pg_cpu, side, strict=True):
        if run.target != name or run.mode != "capacity" or not run.throughput_rps:
            continue
        api.append(10 * run.server_cpu_pct / run.throughput_rps)
        for key, seconds in (("pg", pg_s), ("jobs", jobs_s), ("core", core_s)):
            if seconds == seconds and run.ok:  # not NaN; over the run and its drain
                per_answer[key].append(1000 * seconds / run.ok)

    def median(values: list[float]) -> float | None:
        return round(statistics.median(values), 2) if values else None

    return {
        "cpu_ms_per_request": median(api),
        "pg_cpu_ms_per_request": median(per_answer["pg"]),
        "jobs_cpu_ms_per_request": median(per_answer["jobs"]),
        "core_ms_per_request": median(per_answer["core"]),
    }


async def menu_reads(
    s: Stack, work: Path, *, duration: float, rounds: int, connections: int
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=s.base_url, timeout=30) as http:
        r = await http.get(MENU_PATH)
        r.raise_for_status()
        body, etag = r.content, r.headers["etag"]
    (work / "menu-body.json").write_bytes(body)
    ceiling = infra.start_uvicorn_app(
        "read-ceiling",
        "bench.ceiling_app:create_app",
        infra.clean_env({"BENCH_BODY_FILE": str(work / "menu-body.json"), "BENCH_ETAG": etag}),
        s.workers,
        work / "read-ceiling.log",
        infra_cpus(),
    )
    out: dict[str, Any] = {"body_bytes": len(body), "items": len(json.loads(body)["data"])}
    try:
        cpids = ceiling.serving_pids()
        for kind, tag in (("200", None), ("304", etag)):
            app_raw = request_bytes(MENU_PATH, tag)
            ceil_raw = request_bytes("/full" if tag is None else "/not-modified", tag)
            code = int(kind)
            targets = [
                Target("ceiling", ceiling.port or 0, cpids, lambda i, b=ceil_raw: b, {code}),
                Target("app", s.port, s.api_pids(), lambda i, b=app_raw: b, {code}),
            ]
            out[kind] = await compare(
                kind,
                targets,
                duration=duration,
                rounds=rounds,
                connections=connections,
                latency_base="app",
            )
    finally:
        ceiling.stop()
    return out


def infra_cpus() -> tuple[int, ...]:
    from bench.stack import SERVER_CPUS

    return SERVER_CPUS


async def order_writes(
    s: Stack, work: Path, *, duration: float, rounds: int, connections: int, customers: int
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=s.base_url, timeout=60) as http:
        tokens = await asyncio.gather(
            *(actors.customer_token(http, f"+9197{70000000 + i:08d}") for i in range(customers))
        )
        items = [i for i in await actors.lunch_items(http) if i.get("daily_stock") is None]
    ceiling = infra.start_uvicorn_app(
        "write-ceiling",
        "bench.write_ceiling_app:create_app",
        infra.clean_env({"BENCH_DATABASE_URL": s.database_url}),
        s.workers,
        work / "write-ceiling.log",
        infra_cpus(),
    )

    def body_for(i: int, method: str = "cash") -> bytes:
        item = items[i % len(items)]
        return json.dumps(
            {
                "items": [{"menu_item_id": item["id"], "quantity": 1 + i % 2}],
                "order_type": "pickup",
                "payment_method": method,
                "time_slot": "lunch",
            }
        ).encode()

    def app_request(i: int, method: str = "cash") -> bytes:
        return post_bytes(
            "/api/v1/orders",
            body_for(i, method),
            {
                "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                "X-Idempotency-Key": str(uuid.uuid4()),
            },
        )

    def upi_request(i: int) -> bytes:
        return app_request(i, "upi")

    def ceiling_request(i: int) -> bytes:
        return post_bytes("/insert", body_for(i), {"X-Idempotency-Key": str(uuid.uuid4())})

    out: dict[str, Any] = {"customers": customers, "items": len(items)}
    try:
        targets = [
            Target("ceiling", ceiling.port or 0, ceiling.serving_pids(), ceiling_request, {201}),
            Target("app", s.port, s.api_pids(), app_request, {201}),
        ]
        out["cash"] = await compare(
            "POST /orders",
            targets,
            duration=duration,
            rounds=rounds,
            connections=connections,
            latency_base="app",
            database_url=s.database_url,
            jobs_pid=s.celery.pid,
        )
    finally:
        ceiling.stop()
    # UPI placement also creates the gateway order at the sandbox (an HTTP call from a
    # worker thread): measured on its own, no ceiling comparison.
    upi = Target("app", s.port, s.api_pids(), upi_request, {201})
    out["upi"] = await compare(
        "POST /orders (UPI)",
        [upi],
        duration=duration,
        rounds=1,
        connections=connections,
        latency_base="app",
        database_url=s.database_url,
        jobs_pid=s.celery.pid,
    )
    return out
