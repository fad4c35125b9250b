"""Where `POST /orders` spends its time (py-spy is not installed here; cProfile is).

Two views of the same load (cash orders, one worker):

1. PostgreSQL's: `pg_stat_activity` sampled every 20 ms while a closed loop keeps
   32 placements in flight against the API: what the benchmark database's backends are
   doing (running, waiting on a lock, on the WAL flush, or idle in a transaction
   waiting for the app).
2. Python's: a second API process on the same database and Redis, run under cProfile
   while it places orders at a fixed rate; the profile is grouped by package (share of
   the process's own time) and the heaviest functions are listed. cProfile measures CPU
   time here (idle waits excluded) and slows Python code down (roughly 1.5-2x), so
   read it as proportions, not as absolute costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pstats
import signal
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import actors, infra
from bench.loadgen import closed_loop, open_model
from bench.micro import post_bytes
from bench.stack import SERVER_CPUS, Stack

# The API under cProfile, measuring CPU time (idle waits excluded), switched on and off
# by signals so start-up and warm-up stay out of the profile.
PROFILED = """
import cProfile, signal, sys, time
from canteen.cli import main
prof = cProfile.Profile(time.process_time)
def on(*_):
    prof.enable()
def off(*_):
    prof.disable()
    prof.dump_stats(sys.argv[1])
signal.signal(signal.SIGUSR1, on)
signal.signal(signal.SIGUSR2, off)
main(["serve", "--port", sys.argv[2]])
"""

BUCKETS = (
    ("sqlalchemy", "sqlalchemy"),
    ("asyncpg", "asyncpg"),
    ("pydantic", "pydantic"),
    ("fastapi", "fastapi / starlette"),
    ("starlette", "fastapi / starlette"),
    ("uvicorn", "uvicorn"),
    ("httptools", "uvicorn"),
    ("redis", "redis client"),
    ("razorpay", "gateway SDK"),
    ("requests", "gateway SDK"),
    ("/canteen/", "canteen (our code)"),
    ("logging", "logging"),
    ("json", "json (stdlib)"),
    ("asyncio", "asyncio"),
)


def bucket(filename: str, func: str) -> str:
    for needle, name in BUCKETS:
        if needle in filename:
            return name
    if filename == "~":
        # Builtins: attribute them by name where it is telling.
        if "orjson" in func:
            return "orjson"
        if "uvloop" in func or "socket" in func or "transport" in func:
            return "event loop / sockets (C)"
        return "builtins (C)"
    return "other Python"


async def pg_waits(database: str, stop: asyncio.Event, interval: float = 0.02) -> Counter[str]:
    """Sample what the database's client backends are doing until `stop` is set. Never
    raises: a lost connection is re-opened, and what was counted so far is kept."""
    counts: Counter[str] = Counter()
    conn: asyncpg.Connection | None = None
    while not stop.is_set():
        try:
            if conn is None or conn.is_closed():
                conn = await asyncpg.connect(infra_admin("postgres"))
            rows = await conn.fetch(
                "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE "
                "datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                database,
            )
        except Exception:
            counts["_sampler_errors"] += 1
            conn = None
            await asyncio.sleep(0.5)
            continue
        for r in rows:
            state = r["state"] or "?"
            if state == "idle":
                continue  # pooled connections with nothing to do
            if r["wait_event_type"] is None:
                key = f"{state}: running"
            else:
                key = f"{state}: {r['wait_event_type']}:{r['wait_event']}"
            counts[key] += 1
        counts["_samples"] += 1
        await asyncio.sleep(interval)
    if conn is not None:
        with contextlib.suppress(Exception):
            await conn.close()
    return counts


def infra_admin(database: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database}"


async def orders_profile(s: Stack, work: Path, *, duration: float) -> dict[str, Any]:
    database = s.database_url.rsplit("/", 1)[1]
    async with httpx.AsyncClient(base_url=s.base_url, timeout=60) as http:
        tokens = await asyncio.gather(
            *(actors.customer_token(http, f"+9196{60000000 + i:08d}") for i in range(20))
        )
        items = [i for i in await actors.lunch_items(http) if i.get("daily_stock") is None]

    def request(i: int) -> bytes:
        body = json.dumps(
            {
                "items": [{"menu_item_id": items[i % len(items)]["id"], "quantity": 1}],
                "order_type": "pickup",
                "payment_method": "cash",
                "time_slot": "lunch",
            }
        ).encode()
        return post_bytes(
            "/api/v1/orders",
            body,
            {
                "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                "X-Idempotency-Key": str(uuid.uuid4()),
            },
        )

    out: dict[str, Any] = {}
    # 1. PostgreSQL's view, 32 placements in flight.
    stop = asyncio.Event()
    sampler = asyncio.create_task(pg_waits(database, stop))
    cpu0 = infra.total_cpu(s.api_pids())
    rps = await closed_loop(s.port, request, frozenset({201}), duration, 32)
    cpu = 100 * (infra.total_cpu(s.api_pids()) - cpu0) / (duration + 0.5)
    stop.set()
    waits = await sampler
    samples = max(1, waits.pop("_samples", 1))
    waits.pop("_sampler_errors", None)
    out["pg"] = {
        "closed_loop_rps": round(rps, 1),
        "api_cpu_pct": round(cpu, 1),
        "api_cpu_ms_per_order": round(10 * cpu / rps, 2) if rps else None,
        "samples": samples,
        # average number of backends in each state at any moment
        "backends": {k: round(v / samples, 2) for k, v in waits.most_common()},
    }

    # 2. Python's view: a profiled API process.
    port = infra.free_port()
    prof_file = work / "orders.prof"
    env = dict(s.env)
    env["CANTEEN_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    proc = infra.start(
        "api-profiled",
        [infra.PYTHON, "-c", PROFILED, str(prof_file), str(port)],
        env,
        work / "api-profiled.log",
        SERVER_CPUS,
        port,
    )
    try:
        infra.wait_http(proc, f"http://127.0.0.1:{port}/readyz", timeout=120)
        await closed_loop(port, request, frozenset({201}), 1.0, 4)  # warm: pools, caches
        probe = await closed_loop(port, request, frozenset({201}), 2.0, 16)
        await asyncio.sleep(1.0)
        proc.popen.send_signal(signal.SIGUSR1)
        run = await open_model(
            port,
            [proc.pid],
            request,
            frozenset({201}),
            max(2.0, 0.6 * probe),
            duration,
            16,
            target="app (cProfile)",
            kind="POST /orders",
            mode="latency",
        )
        proc.popen.send_signal(signal.SIGUSR2)
        for _ in range(100):
            if prof_file.exists():
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        out["cprofile_run"] = {
            "probe_rps": round(probe, 1),
            "offered_rps": run.offered_rps,
            "p50_ms": run.p50_ms,
            "p99_ms": run.p99_ms,
            "server_cpu_pct": run.server_cpu_pct,
            "ok": run.ok,
            "errors": run.errors,
        }
    finally:
        proc.stop(timeout=30)
    with contextlib.suppress(Exception):
        out["cprofile"] = summarise(prof_file)
        ok = out["cprofile_run"]["ok"]
        out["cprofile"]["cpu_ms_per_order_profiled"] = (
            round(1000 * out["cprofile"]["total_s"] / ok, 2) if ok else None
        )
    return out


def summarise(prof_file: Path, top: int = 18) -> dict[str, Any]:
    stats = pstats.Stats(str(prof_file))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1e-9
    by_bucket: Counter[str] = Counter()
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in raw.items():
        by_bucket[bucket(filename, func)] += tt
    heavy = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top]

    def name(key: tuple[str, int, str]) -> str:
        filename, line, func = key
        short = filename.split("site-packages/")[-1].split("/src/")[-1]
        return f"{short}:{line} {func}" if filename != "~" else func

    return {
        "total_s": round(total, 2),
        "by_package_pct": {k: round(100 * v / total, 1) for k, v in by_bucket.most_common()},
        "top_self": [
            {"function": name(k), "self_pct": round(100 * v[2] / total, 1), "calls": v[1]}
            for k, v in heavy
        ],
    }
