"""Menu read benchmark: `GET /api/v1/menu/items` (full menu) 200 and 304 vs the ceiling.

    .venv/bin/python bench/menu.py [--duration 4] [--rounds 2] [--connections 32]

What it does (engineering.md, "Performance method"):

1. Builds a fresh embedded canteen (SQLite in a temp dir, demo menu: 50 items) or uses
   `--database-url` (PostgreSQL; migrated and seeded first).
2. Starts the real app and the ceiling app (`bench/ceiling_app.py`: bare FastAPI returning
   the same pre-encoded bytes and ETag) as uvicorn subprocesses on 127.0.0.1 with the same
   settings (1 worker, uvloop, httptools, no access log from uvicorn; the app's own JSON
   request log stays on, as in production, written to a file).
   A third target is the same app with `CANTEEN_MENU_FAST_PATH=false` (every read through
   the FastAPI route and the request-logging middleware), for comparison.
3. Probes the ceiling's capacity with a short closed loop, then, per path (200 and 304):
   - capacity: an open-model run offered 2x the ceiling's probed capacity, alternating
     the targets for `--rounds` rounds; throughput = responses completed inside the
     window / window. The ratio app/ceiling is the headline number.
   - latency at rate: an open-model run at 50% of the ceiling's capacity on each;
     p50/p99 are measured from each request's *scheduled* time, so a stalled server
     cannot hide its queue (no coordinated omission).
4. Prints a Markdown report (and `--json` for machines). Bounded: every run stops at
   its duration and drains for at most a few seconds.

The load generator is asyncio (uvloop) with raw HTTP/1.1 keep-alive connections and
callbacks (no task per request), scheduled by the clock. It reports the server's CPU use
so a generator-bound run (server CPU well under 100%) is visible.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from canteen_testkit.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MENU_PATH = "/api/v1/menu/items"
CLK_TCK = os.sysconf("SC_CLK_TCK")

SERVE = """
import sys, uvicorn
uvicorn.run(sys.argv[1], factory=True, host="127.0.0.1", port=int(sys.argv[2]), workers=1,
            loop="uvloop", http="httptools", access_log=False, log_config=None,
            ws_per_message_deflate=False, log_level="warning")
"""


# ---- servers -------------------------------------------------------------------------


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CANTEEN_", "BENCH_"))}
    env.update(extra)
    return env


@contextmanager
def server(app: str, env: dict[str, str], log: Path) -> Iterator[tuple[int, int]]:
    """Run `app` (an app factory) under uvicorn; yields (port, pid)."""
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [PYTHON, "-c", SERVE, app, str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{app} did not start; see {log}") from None
                time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def settle(pid: int, idle_pct: float = 10.0, limit_s: float = 10.0) -> None:
    """Wait until the server has worked off any backlog of the last run (a server left
    busy would steal the CPU from whatever runs next on this 2-core machine)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(0.3)
        if 100 * (cpu_seconds(pid) - before) / 0.3 < idle_pct:
            return


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


# ---- the load generator --------------------------------------------------------------


class Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time.

    Only the head of a response is buffered; the body is counted, not copied."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.head = bytearray()
        self.body_left = -1  # -1: reading the head
        self.status = 0
        self.on_response: Callable[[int | None], None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        callback, self.on_response = self.on_response, None
        if callback is not None:
            callback(None)

    def send(self, raw: bytes, callback: Callable[[int | None], None]) -> None:
        if self.transport is None:
            callback(None)
            return
        self.on_response = callback
        self.transport.write(raw)

    def data_received(self, data: bytes) -> None:
        if self.body_left < 0:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            self.status = int(self.head[9:12])
            length = 0
            at = self.head.find(b"content-length:", 0, end)
            if at >= 0:
                eol = self.head.find(b"\r\n", at, end + 2)
                length = int(self.head[at + 15 : eol])
            self.body_left = length - (len(self.head) - end - 4)
            self.head.clear()
        else:
            self.body_left -= len(data)
        if self.body_left <= 0:
            self.body_left = -1
            callback, self.on_response = self.on_response, None
            if callback is not None:
                callback(self.status)


async def connect(port: int, n: int) -> list[Conn]:
    loop = asyncio.get_running_loop()
    conns = []
    for _ in range(n):
        _, proto = await loop.create_connection(Conn, "127.0.0.1", port)
        conns.append(proto)
    return conns


def close(conns: list[Conn]) -> None:
    for c in conns:
        if c.transport is not None:
            c.transport.close()


def request_bytes(path: str, etag: str | None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "User-Agent: canteen-bench"]
    if etag:
        lines.append(f"If-None-Match: {etag}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class RunResult:
    target: str
    path: str
    mode: str
    offered_rps: float
    duration_s: float
    sent: int
    ok: int
    errors: int
    dropped: int
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_pct: float


def pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def open_model(
    port: int,
    pid: int,
    raw: bytes,
    expect: int,
    rate: float,
    duration: float,
    connections: int,
    *,
    target: str,
    path: str,
    mode: str,
    max_queue: int | None = None,
    drain_s: float = 3.0,
) -> RunResult:
    """Requests scheduled at start + i/rate, whatever the server does; latency from the
    scheduled time. Bounded: rate*duration requests at most, then a bounded drain."""
    loop = asyncio.get_running_loop()
    # Enough waiting requests to keep every connection busy; beyond that a request is
    # dropped (counted) rather than queued, so an overloaded target cannot build a backlog
    # that outlives its run and steals the CPU from the next one.
    max_queue = max_queue if max_queue is not None else 8 * connections
    conns = await connect(port, connections)
    free: deque[Conn] = deque(conns)
    queue: deque[float] = deque()  # scheduled times waiting for a free connection
    latencies: list[float] = []
    counts = {"errors": 0, "in_window": 0, "outstanding": 0}
    start = loop.time() + 0.05
    end = start + duration

    def dispatch(conn: Conn, scheduled: float) -> None:
        counts["outstanding"] += 1
        conn.send(raw, lambda status: done(conn, scheduled, status))

    def done(conn: Conn, scheduled: float, status: int | None) -> None:
        now = loop.time()
        counts["outstanding"] -= 1
        if status != expect:
            counts["errors"] += 1
        else:
            latencies.append(now - scheduled)
            if now <= end:
                counts["in_window"] += 1
        if status is None:
            return  # the connection is gone
        if queue:
            dispatch(conn, queue.popleft())
        else:
            free.append(conn)

    cpu0 = cpu_seconds(pid)
    total = int(rate * duration)
    sent = dropped = 0
    while sent + dropped < total:
        now = loop.time()
        due = min(total, int((now - start) * rate) + 1) if now >= start else 0
        while sent + dropped < due:
            scheduled = start + (sent + dropped) / rate
            if free:
                dispatch(free.popleft(), scheduled)
                sent += 1
            elif len(queue) < max_queue:
                queue.append(scheduled)
                sent += 1
            else:
                dropped += 1
        await asyncio.sleep(0.0005)
    cpu1 = cpu_seconds(pid)
    wall = max(loop.time() - start, 1e-9)
    deadline = loop.time() + drain_s
    while (counts["outstanding"] or queue) and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    counts["errors"] += counts["outstanding"] + len(queue)  # never answered
    close(conns)
    latencies.sort()
    return RunResult(
        target=target,
        path=path,
        mode=mode,
        offered_rps=round(rate, 1),
        duration_s=duration,
        sent=sent,
        ok=len(latencies),
        errors=counts["errors"],
        dropped=dropped,
        throughput_rps=round(counts["in_window"] / duration, 1),
        p50_ms=round(pct(latencies, 0.50) * 1000, 2),
        p99_ms=round(pct(latencies, 0.99) * 1000, 2),
        max_ms=round(latencies[-1] * 1000, 2) if latencies else float("nan"),
        server_cpu_pct=round(100 * (cpu1 - cpu0) / wall, 1),
    )


async def closed_loop(
    port: int, raw: bytes, expect: int, duration: float, connections: int
) -> float:
    """Throughput with every connection busy all the time (capacity probe only)."""
    loop = asyncio.get_running_loop()
    conns = await connect(port, connections)
    state = {"n": 0, "stop": False}

    def fire(conn: Conn) -> None:
        conn.send(raw, lambda status: back(conn, status))

    def back(conn: Conn, status: int | None) -> None:
        if status == expect:
            state["n"] += 1
        if not state["stop"] and status is not None:
            fire(conn)

    t0 = loop.time()
    for c in conns:
        fire(c)
    await asyncio.sleep(duration)
    state["stop"] = True
    n = state["n"]
    elapsed = loop.time() - t0
    await asyncio.sleep(0.2)
    close(conns)
    return n / elapsed


# ---- the run -------------------------------------------------------------------------


def prepare_database(work: Path, database_url: str | None) -> dict[str, str]:
    env = {"CANTEEN_DATA_DIR": str(work), "CANTEEN_ENV": "development"}
    if database_url:
        env["CANTEEN_DATABASE_URL"] = database_url
    subprocess.run(  # noqa: S603 - our own interpreter and module
        [PYTHON, "-m", "canteen.cli", "seed-demo"],
        cwd=ROOT,
        env=clean_env(env),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return env


def fetch(port: int, path: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.read(), r.headers["ETag"]


TARGETS = ("ceiling", "app", "routes")
LABELS = {
    "ceiling": "ceiling (bare FastAPI, pre-encoded bytes)",
    "app": "app (as shipped: cached reads answered by the fast path)",
    "routes": "app, fast path off (CANTEEN_MENU_FAST_PATH=false)",
}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="canteen-bench-"))
    results: list[RunResult] = []
    summary: dict[str, Any] = {}
    names = TARGETS if args.with_routes else TARGETS[:2]
    try:
        env = prepare_database(work, args.database_url)
        log = work / "servers.log"
        with contextlib.ExitStack() as stack:
            app_port, app_pid = stack.enter_context(
                server("canteen.app:serve_app", clean_env(env), log)
            )
            body, etag = fetch(app_port, MENU_PATH)
            (work / "body.json").write_bytes(body)
            ceiling_env = clean_env(
                {"BENCH_BODY_FILE": str(work / "body.json"), "BENCH_ETAG": etag}
            )
            c_port, c_pid = stack.enter_context(
                server("bench.ceiling_app:create_app", ceiling_env, log)
            )
            summary["body_bytes"] = len(body)
            summary["items"] = len(json.loads(body)["data"])
            targets = {
                "ceiling": (c_port, c_pid, {"200": "/full", "304": "/not-modified"}),
                "app": (app_port, app_pid, {"200": MENU_PATH, "304": MENU_PATH}),
            }
            if args.with_routes:
                routes_env = clean_env({**env, "CANTEEN_MENU_FAST_PATH": "false"})
                r_port, r_pid = stack.enter_context(
                    server("canteen.app:serve_app", routes_env, log)
                )
                targets["routes"] = (r_port, r_pid, {"200": MENU_PATH, "304": MENU_PATH})
            for path_kind, expect, tag in (("200", 200, None), ("304", 304, etag)):

                def raw_for(name: str, kind: str = path_kind, t: str | None = tag) -> bytes:
                    return request_bytes(targets[name][2][kind], t)

                async def run(name: str, rate: float, mode: str, kind: str = path_kind,
                              code: int = expect) -> None:  # fmt: skip
                    port, pid, _ = targets[name]
                    await settle(pid)
                    results.append(
                        await open_model(
                            port,
                            pid,
                            raw_for(name, kind),
                            code,
                            rate,
                            args.duration,
                            args.connections,
                            target=name,
                            path=kind,
                            mode=mode,
                        )
                    )
                    await settle(pid)

                # Warm every target (menu snapshot, encoded bytes, connection pools).
                for name in names:
                    await closed_loop(
                        targets[name][0], raw_for(name), expect, 1.0, args.connections
                    )
                capacity = await closed_loop(
                    c_port, raw_for("ceiling"), expect, 2.0, args.connections
                )
                summary[f"ceiling_probe_{path_kind}_rps"] = round(capacity, 1)
                for _ in range(args.rounds):  # alternate, so drift hits every target alike
                    for name in names:
                        await run(name, capacity * 2.0, "capacity")
                for name in names:
                    await run(name, capacity * 0.5, "at_rate")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    for kind in ("200", "304"):

        def pick(target: str, mode: str, k: str = kind) -> list[RunResult]:
            return [r for r in results if r.path == k and r.target == target and r.mode == mode]

        ceiling_tp = statistics.median(r.throughput_rps for r in pick("ceiling", "capacity"))
        ceiling_rate = pick("ceiling", "at_rate")[0]
        rows = {}
        for name in names:
            tp = statistics.median(r.throughput_rps for r in pick(name, "capacity"))
            at = pick(name, "at_rate")[0]
            rows[name] = {
                "throughput_rps": tp,
                "throughput_ratio": round(tp / ceiling_tp, 3),
                "at_rate_rps": at.offered_rps,
                "p50_ms": at.p50_ms,
                "p99_ms": at.p99_ms,
                "p99_ratio_ceiling_over_target": round(ceiling_rate.p99_ms / at.p99_ms, 3),
                "errors": sum(r.errors for r in results if r.path == kind and r.target == name),
            }
        summary[kind] = rows
    return {"summary": summary, "runs": [asdict(r) for r in results]}


def report(data: dict[str, Any], args: argparse.Namespace) -> str:
    s = data["summary"]
    out = [
        f"Full menu: {s['items']} items, {s['body_bytes']} bytes. "
        f"{args.connections} connections, {args.duration:g} s per run, "
        f"{args.rounds} capacity rounds (median), database: "
        f"{'PostgreSQL' if args.database_url else 'SQLite (embedded default)'}. "
        f"Machine: {os.cpu_count()} CPUs, load average before the run "
        f"{s['load_before']}.",
        "",
        "| path | target | throughput (capacity) | **ratio to ceiling** | p50 / p99 at rate "
        "| p99 ratio (ceiling / target) | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, label in (("200", "200 full menu"), ("304", "304 If-None-Match")):
        for name, row in s[kind].items():
            out.append(
                f"| {label} | {LABELS[name]} | {row['throughput_rps']:.0f}/s "
                f"| **{row['throughput_ratio']:.2f}** "
                f"| {row['p50_ms']:.2f} / {row['p99_ms']:.2f} ms at {row['at_rate_rps']:.0f}/s "
                f"| {row['p99_ratio_ceiling_over_target']:.2f} | {row['errors']} |"
            )
    out += [
        "",
        "Every run:",
        "",
        "| path | target | mode | offered | throughput | ok | errors | dropped | p50 | p99 | max "
        "| server CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["runs"]:
        out.append(
            f"| {r['path']} | {r['target']} | {r['mode']} | {r['offered_rps']:.0f}/s "
            f"| {r['throughput_rps']:.0f}/s | {r['ok']} | {r['errors']} | {r['dropped']} "
            f"| {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | {r['max_ms']:.2f} ms "
            f"| {r['server_cpu_pct']:.0f}% |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=2, help="capacity rounds per target")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: embedded SQLite)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument(
        "--no-routes",
        dest="with_routes",
        action="store_false",
        help="skip the third target (the app with the menu fast path off)",
    )
    args = parser.parse_args()
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    started = time.monotonic()
    load_before = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    data = asyncio.run(main_async(args))
    data["summary"]["load_before"] = load_before
    data["summary"]["bench_seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(report(data, args))
        print(f"\n(bench took {data['summary']['bench_seconds']} s)")


if __name__ == "__main__":
    main()
