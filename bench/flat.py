"""Flat cost (issue 20): does placing an order cost more the longer the kitchen's queue?

Same stack, same load, two kitchen states measured alternately (drift on a shared machine
hits both alike):

- **empty**: no open order (every open order is marked completed by SQL first);
- **queued**: 10,000 confirmed orders waiting in the kitchen, made inside PostgreSQL in one
  `INSERT ... SELECT` over `generate_series` from a real placed order (no row crosses the
  wire), their lines with them, and their kitchen minutes added to their window's running
  figure when the capacity table exists. Between rounds the same rows are switched between
  `confirmed` and `completed` (and their minutes taken out and put back), so both states
  are measured more than once without re-inserting. Each switch is followed by a VACUUM
  of the rewritten rows, so autovacuum's work on them does not land in a measurement.

Each measurement is a closed loop of cash placements (capacity), with the API's and
PostgreSQL's CPU read over it: orders/s and CPU milliseconds per order on each side. The
headline is queued / empty (the goal: within 5%).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import actors, infra, pg
from bench.loadgen import closed_loop
from bench.micro import post_bytes, settle
from bench.stack import Stack

FILL_KEY = "bench-fill-"
OPEN = ("received", "confirmed", "preparing", "ready")
# Columns given per copy; every other column is the template order's.
_OWN = {
    "id": "gen_random_uuid()",
    "number": "'FILL-' || g",
    "daily_seq": "1000000 + g",
    "idempotency_key": f"'{FILL_KEY}' || g",
    "status": "'confirmed'",
    "created_at": "now() - make_interval(secs => g)",
    "updated_at": "now()",
}


async def _columns(conn: asyncpg.Connection, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
        "ORDER BY ordinal_position",
        table,
    )
    return [str(r["column_name"]) for r in rows]


async def fill(conn: asyncpg.Connection, template: str, count: int) -> None:
    """`count` confirmed copies of order `template` with their lines, in one statement."""
    cols = await _columns(conn, "orders")
    item_cols = await _columns(conn, "order_items")
    select = ", ".join(_OWN.get(c, f"o.{c}") for c in cols)
    item_select = ", ".join(
        {"id": "gen_random_uuid()", "order_id": "n.id"}.get(c, f"i.{c}") for c in item_cols
    )
    # Column names come from the catalog, values are parameters.
    sql = (
        f"WITH n AS (INSERT INTO orders ({', '.join(cols)}) "  # noqa: S608
        f"SELECT {select} FROM orders o, generate_series(1, $2) g WHERE o.id = $1 "
        f"RETURNING id) "
        f"INSERT INTO order_items ({', '.join(item_cols)}) "
        f"SELECT {item_select} FROM n, order_items i WHERE i.order_id = $1"
    )
    await conn.execute(sql, uuid.UUID(template), count)


async def set_state(conn: asyncpg.Connection, queued: bool) -> None:
    """Empty the kitchen of the load's own orders; the filled ones queued or not."""
    async with conn.transaction():
        await conn.execute(
            "UPDATE orders SET status = 'completed', completed_at = now() "
            "WHERE status = ANY($1::text[]) AND idempotency_key NOT LIKE $2",
            list(OPEN),
            FILL_KEY + "%",
        )
        want, was = ("confirmed", "completed") if queued else ("completed", "confirmed")
        moved = await conn.fetchrow(
            "WITH m AS (UPDATE orders SET status = $1 WHERE idempotency_key LIKE $2 "
            "AND status = $3 RETURNING time_slot, pickup_window_start, window_minutes) "
            "SELECT min(time_slot) slot, min(pickup_window_start) w, "
            "coalesce(sum(window_minutes), 0) minutes FROM m",
            want,
            FILL_KEY + "%",
            was,
        )
        if moved["w"] is not None and await conn.fetchval("SELECT to_regclass('kitchen_windows')"):
            # The queue's running figure follows the orders (all copies share one window).
            sign = 1 if queued else -1
            await conn.execute(
                "UPDATE kitchen_windows SET used_minutes = greatest(0, used_minutes + $3) "
                "WHERE slot_code = $1 AND window_start = $2",
                moved["slot"],
                moved["w"],
                sign * int(moved["minutes"]),
            )


async def flat_cost(
    s: Stack,
    work: Path,
    *,
    duration: float,
    rounds: int,
    connections: int,
    queued: int = 10_000,
    customers: int = 8,
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=s.base_url, timeout=60) as http:
        tokens = await asyncio.gather(
            *(actors.customer_token(http, f"+9195{50000000 + i:08d}") for i in range(customers))
        )
        items = [i for i in await actors.lunch_items(http) if i.get("daily_stock") is None]
        template = await actors.place_cash_order(http, tokens[0], items[0]["id"])

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

    conn = await asyncpg.connect(s.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    out: dict[str, Any] = {"queued_orders": queued, "connections": connections, "runs": []}
    try:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await fill(conn, str(template["id"]), queued)
        await conn.execute("ANALYZE orders")
        out["fill_s"] = round(loop.time() - t0, 2)
        await closed_loop(s.port, request, frozenset({201}), 1.0, connections)  # warm-up
        for _ in range(rounds):
            for state in ("empty", "queued"):
                await set_state(conn, state == "queued")
                # The switch rewrote 10,000 rows: vacuum them now, or autovacuum does it
                # during the measurement and its CPU is counted as the placements'.
                await conn.execute("VACUUM ANALYZE orders")
                await conn.execute("VACUUM ANALYZE order_items")
                await settle(s.api_pids())
                out["runs"].append(await _measure(s, request, state, duration, connections))
    finally:
        await conn.close()
    out["summary"] = _summary(out["runs"])
    return out


async def _measure(
    s: Stack, request: Any, state: str, duration: float, connections: int
) -> dict[str, Any]:
    meter = pg.PgCpu(s.database_url)
    await meter.start()
    pids = s.api_pids()
    cpu0 = infra.total_cpu(pids)
    rps = await closed_loop(s.port, request, frozenset({201}), duration, connections)
    api_s = infra.total_cpu(pids) - cpu0
    pg_s = await meter.stop()
    orders = max(1.0, rps * duration)
    return {
        "state": state,
        "orders_per_s": round(rps, 1),
        "api_cpu_ms_per_order": round(1000 * api_s / orders, 2),
        "pg_cpu_ms_per_order": round(1000 * pg_s / orders, 2),
    }


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for state in ("empty", "queued"):
        mine = [r for r in runs if r["state"] == state]
        out[state] = {
            k: round(statistics.median(r[k] for r in mine), 2)
            for k in ("orders_per_s", "api_cpu_ms_per_order", "pg_cpu_ms_per_order")
        }
    for k in ("orders_per_s", "api_cpu_ms_per_order", "pg_cpu_ms_per_order"):
        empty = out["empty"][k]
        out[f"{k}_queued_vs_empty"] = round(out["queued"][k] / empty, 3) if empty else None
    return out
