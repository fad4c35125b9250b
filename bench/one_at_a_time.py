"""CPU per order with one placement at a time: the cost of the work itself, without the
queueing, lock waits and core sharing that load adds (the micro phase's figures move by
±30% from run to run on a shared machine; these move by a few per cent).

    .venv/bin/python -m bench.one_at_a_time [--orders 400] [--method cash|upi]
        [--profile FILE]

Starts the bench's stack (one API worker, Celery, the gateway sandbox, a private Redis,
PostgreSQL), places `--orders` orders one after another from this process (pinned to the
load core), and reads the CPU time each server spent per order from /proc: the API
process, PostgreSQL's backends of the bench database, the Celery worker's process tree.
With `--profile`, the API process runs under cProfile and its stats are written to FILE
(`python -m pstats FILE`); the CPU figures are then the profiled ones, and the output adds
the Python function calls per order (stable where CPU time is not: compare variants by it).
`pg_wal_bytes_per_order` is what PostgreSQL wrote to its log per order (rows and index
entries): the database's side of the same comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench import actors, infra, pg
from bench.profile import PROFILED
from bench.stack import LOADGEN_CPUS, SERVER_CPUS, Stack, stack


async def measure(
    s: Stack, orders: int, method: str, profiled: infra.Proc | None
) -> dict[str, Any]:
    port = profiled.port if profiled else s.port
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        tokens = await asyncio.gather(
            *(actors.customer_token(http, f"+9195{50000000 + i:08d}") for i in range(20))
        )
        items = [i for i in await actors.lunch_items(http) if i.get("daily_stock") is None]

        async def place(i: int) -> None:
            r = await http.post(
                "/api/v1/orders",
                json={
                    "items": [{"menu_item_id": items[i % len(items)]["id"], "quantity": 1}],
                    "order_type": "pickup",
                    "payment_method": method,
                    "time_slot": "lunch",
                },
                headers={
                    "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                    "X-Idempotency-Key": str(uuid.uuid4()),
                },
            )
            assert r.status_code == 201, r.text

        for i in range(50):  # warm-up: pools, caches, the statement cache
            await place(i)
        await asyncio.sleep(1.5)  # the jobs of the warm-up
        api_pids = [profiled.pid] if profiled else s.api_pids()
        meter = pg.PgCpu(s.database_url)
        await meter.start()
        wal0 = await pg.wal_position(s.database_url)
        api0, jobs0, t0 = infra.total_cpu(api_pids), infra.tree_cpu(s.celery.pid), time.time()
        if profiled:
            profiled.popen.send_signal(signal.SIGUSR1)
        for i in range(orders):
            await place(i)
        await asyncio.sleep(1.5)  # the dispatcher, the reactions and their jobs finish
        if profiled:
            profiled.popen.send_signal(signal.SIGUSR2)
        pg_s = await meter.stop()
        wal = await pg.wal_position(s.database_url) - wal0
        api = infra.total_cpu(api_pids) - api0
        jobs = infra.tree_cpu(s.celery.pid) - jobs0
        elapsed = time.time() - t0
    return {
        "orders": orders,
        "method": method,
        "api_cpu_ms_per_order": round(1000 * api / orders, 3),
        "pg_cpu_ms_per_order": round(1000 * pg_s / orders, 3),
        "jobs_cpu_ms_per_order": round(1000 * jobs / orders, 3),
        "wall_ms_per_order": round(1000 * (elapsed - 1.5) / orders, 3),
        "pg_wal_bytes_per_order": round(wal / orders),
    }


def _calls_per_order(stats_file: Path, orders: int) -> int:
    """Python function calls per order in the profile: unlike CPU time on a shared
    machine, the same from run to run (within 0.2%), so a change of a few per cent in the
    work an order does shows in one run."""
    import pstats

    calls: int = pstats.Stats(str(stats_file)).total_calls  # type: ignore[attr-defined]
    return round(calls / orders)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--method", choices=("cash", "upi"), default="cash")
    parser.add_argument("--profile", type=Path, help="run the API under cProfile, stats here")
    args = parser.parse_args()
    infra.set_affinity(LOADGEN_CPUS)
    work = Path(tempfile.mkdtemp(prefix="canteen-one-"))
    with (
        infra.private_redis(work, SERVER_CPUS) as redis_base,
        stack(workers=1, work=work, redis_base=redis_base) as s,
    ):
        profiled = None
        if args.profile:  # a second API process on the same stack, as bench/profile.py
            port = infra.free_port()
            env = {**s.env, "CANTEEN_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
            command = [infra.PYTHON, "-c", PROFILED, str(args.profile.resolve()), str(port)]
            profiled = infra.start(
                "api-profiled", command, env, work / "api-profiled.log", SERVER_CPUS, port
            )
            infra.wait_http(profiled, f"http://127.0.0.1:{port}/readyz", timeout=120)
        try:
            out = asyncio.run(measure(s, args.orders, args.method, profiled))
        finally:
            if profiled:
                profiled.stop()
        if args.profile:
            out["python_calls_per_order"] = _calls_per_order(args.profile, args.orders)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
