"""Run every Canteen benchmark and write the report.

    .venv/bin/python -m bench.run            # the full run (at most ~20 minutes)
    .venv/bin/python -m bench.run --quick    # a 1-2 minute smoke run of every phase
    .venv/bin/python -m bench.run --phases= --no-report --reports 1000000  # reports only

Phases, per configuration (PostgreSQL + Redis; one API worker, then two):
  micro     menu GET 200/304 vs the read ceiling, POST /orders vs the write ceiling
  realtime  status-change delivery latency to WebSocket and SSE clients at 1,000 and
            10,000 open WebSockets, and memory per WebSocket
then, on one worker:
  rush      the lunch rush at 300 orders a minute (time-compressed), then higher rates
            until a goal breaks
  profile   the app under cProfile while it places orders (only when a goal missed)

Writes bench/results/<timestamp>.json and the generated section of docs/performance.md
(between the `<!-- bench:run -->` markers; the rest of the file is left alone).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import infra
from bench.stack import LOADGEN_CPUS, SANDBOX_CPUS, SERVER_CPUS, stack
from canteen.core import heap

ROOT = infra.ROOT
RESULTS = ROOT / "bench" / "results"


def machine() -> dict[str, Any]:
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()  # noqa: S607
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "uname": uname,
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgres": _pg_version(),
    }


def _pg_version() -> str:
    with contextlib.suppress(Exception):
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "show server_version"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip()
    return "?"


def wait_for_quiet(limit_s: float, threshold: float) -> dict[str, Any]:
    """Wait (bounded) for the 1-minute load average to drop under `threshold`."""
    t0 = time.monotonic()
    before = infra.loadavg()
    while os.getloadavg()[0] >= threshold and time.monotonic() - t0 < limit_s:
        time.sleep(10)
    return {
        "before_wait": before,
        "waited_s": round(time.monotonic() - t0),
        "at_start": infra.loadavg(),
        "threshold": threshold,
    }


class Budget:
    def __init__(self, seconds: float) -> None:
        self.t0 = time.monotonic()
        self.seconds = seconds

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.t0)


def params(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "micro": {"duration": 1.0, "rounds": 1, "connections": 32},
            "orders": {"duration": 1.0, "rounds": 1, "connections": 16, "customers": 4},
            "ws_counts": [200, 500],
            "probe_orders": 5,
            "menu_students": 200,
            "profile_s": 1.5,
            "flat": {"duration": 2.0, "rounds": 1, "connections": 16},
            "rush": {"peak_per_min": 300, "seconds": 20},
            "search": [],
            "budget_s": 4 * 60,
        }
    return {
        "micro": {"duration": 3.0, "rounds": 2, "connections": 64},
        "orders": {"duration": 3.0, "rounds": 2, "connections": 32, "customers": 20},
        "ws_counts": [1000, 10000],
        "probe_orders": 30,
        "menu_students": 1000,
        "profile_s": 5.0,
        "flat": {"duration": 4.0, "rounds": 2, "connections": 16},
        "rush": {"peak_per_min": 300, "seconds": 180},
        "search": [600, 900, 1200, 1800, 2400],
        "budget_s": 19.5 * 60,
    }


async def run_micro(s: Any, work: Path, p: dict[str, Any]) -> dict[str, Any]:
    from bench import micro

    out: dict[str, Any] = {}
    t0 = time.monotonic()
    out["menu"] = await micro.menu_reads(s, work, **p["micro"])
    out["orders"] = await micro.order_writes(s, work, **p["orders"])
    out["seconds"] = round(time.monotonic() - t0, 1)
    return out


async def run_profile(s: Any, work: Path, p: dict[str, Any]) -> dict[str, Any]:
    from bench import profile

    return await profile.orders_profile(s, work, duration=p["profile_s"])


async def run_flat(s: Any, work: Path, p: dict[str, Any]) -> dict[str, Any]:
    from bench import flat

    return await flat.flat_cost(s, work, **p["flat"])


async def run_realtime(s: Any, work: Path, p: dict[str, Any]) -> dict[str, Any]:
    from bench import realtime

    out = await realtime.fanout(s, work, counts=p["ws_counts"], probe_orders=p["probe_orders"])
    out["menu_channel"] = await realtime.menu_fanout(s, students=p["menu_students"], changes=20)
    return out


async def run_rush(s: Any, work: Path, p: dict[str, Any], budget: Budget) -> dict[str, Any]:
    from bench import rush

    return await rush.rush_and_search(s, work, p["rush"], p["search"], budget)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1-2 minute smoke run")
    parser.add_argument(
        "--phases",
        default="micro,profile,flat,realtime,rush",
        help="comma-separated subset of micro,profile,flat,realtime,rush (default: all)",
    )
    parser.add_argument("--workers", help="API worker counts (default: 1,2; with --quick: 1)")
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/")
    parser.add_argument(
        "--wait-load",
        type=float,
        default=0.0,
        help="wait up to this many seconds for the load average to fall under 1.5",
    )
    parser.add_argument("--keep-work", action="store_true", help="keep logs in the work dir")
    parser.add_argument(
        "--reports",
        type=int,
        metavar="ORDERS",
        help="also run the reports phase (bench/reports.py) on this many generated orders; "
        "not in the default run (a million orders take far more than 2 minutes)",
    )
    args = parser.parse_args()

    # SIGTERM cleans up like Ctrl-C (every process we started is stopped by its pid).
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # servers inherit it
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    # The generator times every request from its own event loop: a full collection of
    # its import-time heap stopped that loop for up to 260 ms in a rush (issue 20), which
    # the steps' p99 then counted as the servers' time (and see _phase).
    heap.freeze_startup_heap()

    quick = args.quick
    p = params(quick)
    phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    worker_counts = [int(x) for x in (args.workers or ("1" if quick else "1,2")).split(",")]
    load = wait_for_quiet(args.wait_load, 1.5)
    started = dt.datetime.now(dt.UTC)
    budget = Budget(p["budget_s"])
    # The generator (this process and the WebSocket holders it starts) gets the load core;
    # the servers are pinned to the other one when they start.
    infra.set_affinity(LOADGEN_CPUS)
    work = Path(tempfile.mkdtemp(prefix="canteen-bench-"))
    result: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.run", *sys.argv[1:]]),
        "quick": quick,
        "machine": machine(),
        "load": load,
        "pinning": {
            "servers": list(SERVER_CPUS),
            "load_generator": list(LOADGEN_CPUS),
            "sandbox": list(SANDBOX_CPUS),
        },
        "params": p,
        "configs": {},
    }
    try:
        with infra.private_redis(work, SERVER_CPUS) as redis_base:
            result["redis"] = "private redis-server" if "6379" not in redis_base else redis_base
            rush_done = False
            for workers in worker_counts:
                if not {"micro", "realtime", "profile", "flat"} & set(phases):
                    break
                cfg: dict[str, Any] = {"load_at_start": infra.loadavg()}
                cwork = work / f"w{workers}"
                with stack(
                    workers=workers,
                    work=cwork,
                    redis_base=redis_base,
                ) as s:
                    if "micro" in phases:
                        _phase(cfg, "micro", run_micro, s, cwork, p)
                        _save(result, cfg, workers)
                    if "profile" in phases and workers == 1:
                        _phase(cfg, "profile", run_profile, s, cwork, p)
                        _save(result, cfg, workers)
                    if "flat" in phases and workers == 1:
                        _phase(cfg, "flat", run_flat, s, cwork, p)
                        _save(result, cfg, workers)
                    if "realtime" in phases:
                        _phase(cfg, "realtime", run_realtime, s, cwork, p)
                        _save(result, cfg, workers)
                    if quick and workers == 1 and "rush" in phases:
                        # Smoke run: the rush shares this stack (no third start-up).
                        _phase(cfg, "rush", run_rush, s, cwork, p, budget)
                        _save(result, cfg, workers)
                        rush_done = True
            if "rush" in phases and not rush_done:
                cfg = result["configs"].setdefault("1", {})
                cwork = work / "rush"
                with stack(
                    workers=1,
                    work=cwork,
                    redis_base=redis_base,
                ) as s:
                    _phase(cfg, "rush", run_rush, s, cwork, p, budget)
                    _save(result, cfg, 1)
        if args.reports:
            from bench import reports

            result["reports"] = reports.run(args.reports, runs=20)
    except KeyboardInterrupt:
        result["interrupted"] = True
        print("interrupted; writing what was measured", file=sys.stderr)
    finally:
        result["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        result["seconds"] = round(time.monotonic() - budget.t0, 1)
        result["load_at_end"] = infra.loadavg()
        RESULTS.mkdir(exist_ok=True)
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        out = RESULTS / f"{stamp}{'-quick' if quick else ''}.json"
        out.write_text(json.dumps(result, indent=2, default=str))
        print(f"results: {out.relative_to(ROOT)}")
        if not args.no_report:
            from bench import report

            report.write(result, out)
        if args.keep_work:
            print(f"logs: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _phase(cfg: dict[str, Any], name: str, fn: Any, *args: Any) -> None:
    """Run one phase; a failure is recorded (and printed) and the run goes on."""
    try:
        with infra.no_full_collections():
            cfg[name] = asyncio.run(fn(*args))
    except Exception as exc:
        import traceback

        traceback.print_exc()
        cfg.setdefault("failed_phases", {})[name] = repr(exc)[:500]


def _save(result: dict[str, Any], cfg: dict[str, Any], workers: int) -> None:
    result["configs"][str(workers)] = cfg


if __name__ == "__main__":
    main()
