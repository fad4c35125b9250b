"""Open-model HTTP load (the pattern of `bench/menu.py`, generalised).

Requests are scheduled at `start + i / rate` by the clock whatever the server does, and
latency is measured from each request's *scheduled* time, so a stalled server cannot hide
its queue (no coordinated omission). Raw HTTP/1.1 keep-alive connections with callbacks
(`bench.menu.Conn`, no task per request); each request's bytes come from a factory, so
every POST can carry its own idempotency key. Bounded: `rate * duration` requests at
most, then a bounded drain.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.infra import total_cpu
from bench.menu import Conn, close, connect


def pct(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


@dataclass
class LoadResult:
    target: str
    kind: str
    mode: str
    offered_rps: float
    duration_s: float
    sent: int
    ok: int
    errors: int
    unsent: int
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_pct: float
    statuses: dict[str, int]


async def open_model(
    port: int,
    pids: Sequence[int],
    make: Callable[[int], bytes],
    expect: frozenset[int],
    rate: float,
    duration: float,
    connections: int,
    *,
    target: str,
    kind: str,
    mode: str,
    max_queue: int = 20_000,
    drain_s: float = 3.0,
) -> LoadResult:
    loop = asyncio.get_running_loop()
    conns = await connect(port, connections)
    free: deque[Conn] = deque(conns)
    queue: deque[tuple[int, float]] = deque()  # (index, scheduled) waiting for a connection
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    counts = {"errors": 0, "in_window": 0, "outstanding": 0}
    start = loop.time() + 0.05
    end = start + duration

    def dispatch(conn: Conn, index: int, scheduled: float) -> None:
        counts["outstanding"] += 1
        conn.send(make(index), lambda status: done(conn, scheduled, status))

    def done(conn: Conn, scheduled: float, status: int | None) -> None:
        now = loop.time()
        counts["outstanding"] -= 1
        key = str(status)
        statuses[key] = statuses.get(key, 0) + 1
        if status not in expect:
            counts["errors"] += 1
        else:
            latencies.append(now - scheduled)
            if now <= end:
                counts["in_window"] += 1
        if status is None:
            return  # the connection is gone
        if queue:
            dispatch(conn, *queue.popleft())
        else:
            free.append(conn)

    pids = list(pids)
    cpu0 = total_cpu(pids)
    total = int(rate * duration)
    issued = 0
    unsent = 0
    while issued < total:
        now = loop.time()
        due = min(total, int((now - start) * rate) + 1) if now >= start else 0
        while issued < due:
            scheduled = start + issued / rate
            if free:
                dispatch(free.popleft(), issued, scheduled)
            elif len(queue) < max_queue:
                queue.append((issued, scheduled))
            else:
                unsent += 1
            issued += 1
        await asyncio.sleep(0.0005)
    wall = max(loop.time() - start, 1e-9)
    cpu1 = total_cpu(pids)
    deadline = loop.time() + drain_s
    while (counts["outstanding"] or queue) and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    # Scheduled but never answered inside the drain: an error in a latency run; in a
    # capacity run (offered above capacity on purpose) the backlog is reported apart.
    backlog = counts["outstanding"] + len(queue)
    if mode == "capacity":
        unsent += len(queue)
        counts["errors"] += counts["outstanding"]
    else:
        counts["errors"] += backlog
    close(conns)
    latencies.sort()
    return LoadResult(
        target=target,
        kind=kind,
        mode=mode,
        offered_rps=round(rate, 1),
        duration_s=duration,
        sent=total - unsent,
        ok=len(latencies),
        errors=counts["errors"],
        unsent=unsent,
        throughput_rps=round(counts["in_window"] / duration, 1),
        p50_ms=round(pct(latencies, 0.50) * 1000, 2),
        p99_ms=round(pct(latencies, 0.99) * 1000, 2),
        max_ms=round(latencies[-1] * 1000, 2) if latencies else float("nan"),
        server_cpu_pct=round(100 * (cpu1 - cpu0) / wall, 1),
        statuses=statuses,
    )


async def closed_loop(
    port: int,
    make: Callable[[int], bytes],
    expect: frozenset[int],
    duration: float,
    connections: int,
) -> float:
    """Throughput with every connection busy all the time (capacity probe only)."""
    loop = asyncio.get_running_loop()
    conns = await connect(port, connections)
    state = {"n": 0, "i": 0, "stop": False}

    def fire(conn: Conn) -> None:
        state["i"] += 1
        conn.send(make(state["i"]), lambda status: back(conn, status))

    def back(conn: Conn, status: int | None) -> None:
        if status in expect:
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
    await asyncio.sleep(0.5)
    close(conns)
    return n / elapsed
