"""Reports at scale (issue 18): a year of orders on PostgreSQL, then the dashboard, a year's
daily report and the CSV of a year measured through a real API process.

    .venv/bin/python -m bench.reports                    # 1,000,000 orders
    .venv/bin/python -m bench.reports --orders 200000    # smaller, quicker
    .venv/bin/python -m bench.reports --keep             # keep the database (name printed)
    .venv/bin/python -m bench.reports --reuse NAME       # measure a kept database again

The generator writes the rows with `INSERT ... SELECT` over `generate_series` inside
PostgreSQL (no row crosses the wire): orders spread over 365 days in three serving windows
(breakfast 08:00-10:00, lunch 12:00-14:30, snacks 16:00-18:00, Asia/Kolkata), 60% UPI and 40%
cash, about 88% completed, 8% cancelled and 4% left ready (never collected); one or two lines
each from the demo menu; UPI payments captured, refunds for cancelled UPI orders, ratings on
30% of completed orders, and the completion event (with the staff member who handed over)
of every cash order, already dispatched. Line totals are not made to add up to order totals:
the figures are read, not checked, here (backend/tests/api/test_reports.py checks them).

Measured: the first read of a year's sales by day (it fills the daily rollup of every closed
day), then p50/p99 of GET /admin/reports/dashboard, of a year's sales by day (to yesterday,
and to today: today is live), by hour and by payment method (their year's percentile from
the rollup's histograms), of the last 31 days by day (its totals' exact percentile read
live), of a year's dishes, categories and cash drawer (the rollup's daily lines), the rate of
the feedback CSV for the year (rows/s and MB/s, which the API streams with a server-side
cursor) and how much the API process's RSS grew while it streamed. Writes
bench/results/<timestamp>-reports.json (with the load average at the start and the end: the
machine is shared) and prints a summary for docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import infra
from bench.stack import SERVER_CPUS

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
RESULTS = infra.ROOT / "bench" / "results"
ZONE = "Asia/Kolkata"
ADMIN = {"phone": "+919000000001", "password": "canteen-admin"}

GENERATE = [
    # A customer, and the kitchen accounts who hand cash orders over.
    """INSERT INTO users (id, phone, name, role, is_active, created_at, updated_at)
       SELECT gen_random_uuid(), '+9170000000' || lpad(g::text, 2, '0'),
              CASE WHEN g = 0 THEN 'Bench customer' ELSE 'Bench staff ' || g END,
              CASE WHEN g = 0 THEN 'customer' ELSE 'kitchen' END, true, now(), now()
       FROM generate_series(0, 3) g""",
    """CREATE TEMP TABLE bench_menu AS
       SELECT row_number() OVER (ORDER BY name) - 1 AS i, id, name, price FROM menu_items""",
    """INSERT INTO orders (id, number, business_date, daily_seq, customer_id, status,
         payment_method, payment_status, order_type, time_slot, subtotal, delivery_fee, total,
         currency, pickup_code, prep_minutes, estimated_ready_at, confirmed_at, ready_at,
         completed_at, cancelled_at, cancelled_by, cancel_reason, feedback_rating, feedback_at,
         created_at, updated_at)
       SELECT gen_random_uuid(), 'B-' || g, d, g, c.id, st, pm,
              CASE WHEN st = 'cancelled'
                   THEN (CASE WHEN pm = 'upi' THEN 'refunded' ELSE 'cash_due' END)
                   WHEN pm = 'upi' THEN 'captured'
                   WHEN st = 'completed' THEN 'paid' ELSE 'cash_due' END,
              'pickup', slot, amount, 0, amount, 'INR', lpad((g % 10000)::text, 4, '0'), 12,
              placed + interval '16 minutes', placed + interval '1 minute',
              CASE WHEN st <> 'cancelled' THEN placed + interval '1 minute' + prep END,
              CASE WHEN st = 'completed' THEN placed + interval '4 minutes' + prep END,
              CASE WHEN st = 'cancelled' THEN placed + interval '3 minutes' END,
              CASE WHEN st = 'cancelled'
                   THEN (CASE WHEN g % 3 = 0 THEN 'kitchen' ELSE 'customer' END) END,
              CASE WHEN st = 'cancelled'
                   THEN (CASE WHEN g % 3 = 0 THEN 'out of stock' ELSE 'cancelled by customer' END)
                   END,
              CASE WHEN st = 'completed' AND g % 10 < 3 THEN 1 + (g / 10) % 5 END,
              CASE WHEN st = 'completed' AND g % 10 < 3
                   THEN placed + interval '30 minutes' + prep END,
              placed, placed
       FROM (
         SELECT g, d, slot, amount, prep, st, pm,
                (d + start_at + (random() * span) * interval '1 minute')
                  AT TIME ZONE %(zone)s AS placed
         FROM (
           SELECT g,
                  %(first)s::date + (g %% 365) AS d,
                  CASE WHEN g % 10 < 3 THEN 'breakfast' WHEN g % 10 < 8 THEN 'lunch'
                       ELSE 'snacks' END AS slot,
                  CASE WHEN g % 10 < 3 THEN time '08:00' WHEN g % 10 < 8 THEN time '12:00'
                       ELSE time '16:00' END AS start_at,
                  CASE WHEN g %% 10 < 3 THEN 120 WHEN g %% 10 < 8 THEN 150 ELSE 120 END AS span,
                  (2 + (g::bigint * 7919) %% 29) * 1000 AS amount,
                  (5 + (g * 31) %% 21) * interval '1 minute' AS prep,
                  CASE WHEN g % 100 < 8 THEN 'cancelled' WHEN g % 100 < 12 THEN 'ready'
                       ELSE 'completed' END AS st,
                  CASE WHEN g %% 5 < 3 THEN 'upi' ELSE 'cash' END AS pm
           FROM generate_series(1, %(orders)s) g
         ) raw
       ) o, (SELECT id FROM users WHERE phone = '+917000000000') c""",
    """INSERT INTO order_items (id, order_id, position, menu_item_id, name, unit_price, quantity,
         line_total, prep_minutes)
       SELECT gen_random_uuid(), o.id, k, m.id, m.name, m.price, 1 + k % 2,
              m.price * (1 + k % 2), 10
       FROM orders o
       CROSS JOIN LATERAL generate_series(0, (o.daily_seq %% 2)) k
       JOIN bench_menu m ON m.i = (o.daily_seq + k * 7) %% (SELECT count(*) FROM bench_menu)""",
    """INSERT INTO payments (id, order_id, gateway, gateway_order_id, gateway_payment_id, amount,
         currency, status, attempts, expires_at, captured_at, created_at, updated_at)
       SELECT gen_random_uuid(), id, 'razorpay', 'order_' || number, 'pay_' || number, total, 'INR',
              CASE WHEN status = 'cancelled' THEN 'refunded' ELSE 'captured' END, 1,
              created_at + interval '5 minutes', confirmed_at, created_at, created_at
       FROM orders WHERE payment_method = 'upi'""",
    """INSERT INTO refunds (id, payment_id, order_id, gateway_refund_id, amount, status, reason,
         idempotency_key, created_at, updated_at)
       SELECT gen_random_uuid(), p.id, o.id, 'rfnd_' || o.number, o.total, 'processed',
              o.cancel_reason, 'refund-' || o.number, o.cancelled_at + interval '1 minute',
              o.cancelled_at + interval '1 minute'
       FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.status = 'cancelled'""",
    """INSERT INTO events (id, type, order_id, order_number, status, payment_status, actor_id,
         data, created_at, dispatched_at)
       SELECT gen_random_uuid(), 'order.status_changed', o.id, o.number, 'completed', 'paid',
              s.id, '{}', o.completed_at, o.completed_at
       FROM orders o
       JOIN (SELECT id, row_number() OVER (ORDER BY phone) - 1 AS i FROM users
             WHERE phone LIKE '+91700000000%%' AND role = 'kitchen') s ON s.i = o.daily_seq %% 3
       WHERE o.status = 'completed' AND o.payment_method = 'cash'""",
    # The cash drawer reads who took the cash, when and how much from the order's columns.
    """UPDATE orders o SET cash_collected_at = o.completed_at, cash_collected_by = e.actor_id,
              cash_collected_amount = o.total
       FROM events e
       WHERE e.order_id = o.id AND e.type = 'order.status_changed' AND e.status = 'completed'
         AND o.payment_method = 'cash'""",
    "VACUUM ANALYZE",
]


def generate(url: str, orders: int, first: dt.date) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    t0 = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        for sql in GENERATE:
            # Modulo is written `%` above; psycopg wants it doubled beside the placeholders.
            query = sql.replace("%%", "%").replace("%", "%%").replace("%%(", "%(")
            conn.execute(query, {"orders": orders, "first": first, "zone": ZONE})
        for table in ("orders", "order_items", "payments", "refunds", "events"):
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            counts[table] = int(row[0]) if row else 0
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        counts["database_size"] = (size.fetchone() or ["?"])[0]
    counts["seconds"] = round(time.monotonic() - t0, 1)
    return counts


def timed(client: httpx.Client, path: str, runs: int, headers: dict[str, str]) -> dict[str, float]:
    client.get(path, headers=headers).raise_for_status()  # warm the caches once
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = client.get(path, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    times.sort()
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(times), 1),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
        "max_ms": round(times[-1], 1),
    }


def stream_csv(
    client: httpx.Client, path: str, headers: dict[str, str], pid: int
) -> dict[str, Any]:
    """Read the CSV as it comes while sampling the API's RSS."""
    peak = [infra.rss_kb(pid)]
    start_rss = peak[0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], infra.rss_kb(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rows = size = 0
    t0 = time.perf_counter()
    first_byte = None
    with client.stream("GET", path, headers=headers, timeout=600) as r:
        r.raise_for_status()
        for chunk in r.iter_bytes():
            if first_byte is None:
                first_byte = time.perf_counter() - t0
            size += len(chunk)
            rows += chunk.count(b"\r\n")
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    return {
        "rows": rows - 1,
        "megabytes": round(size / 1e6, 1),
        "seconds": round(seconds, 2),
        "first_byte_ms": round((first_byte or 0) * 1000, 1),
        "rows_per_s": round((rows - 1) / seconds),
        "mb_per_s": round(size / 1e6 / seconds, 2),
        "rss_start_mb": round(start_rss / 1024, 1),
        "rss_peak_mb": round(peak[0] / 1024, 1),
        "rss_growth_mb": round((peak[0] - start_rss) / 1024, 1),
    }


def measure(base: str, pid: int, first: dt.date, last: dt.date, runs: int) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=120) as client:
        r = client.post("/api/v1/auth/staff-login", json=ADMIN)
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['data']['access_token']}"}
        year = f"from={first}&to={last}"
        sales = "/api/v1/admin/reports/sales"
        # The first read of the year fills the daily rollup (every closed day, once).
        t0 = time.perf_counter()
        client.get(f"{sales}?{year}&group=day", headers=headers, timeout=600).raise_for_status()
        fill_ms = round((time.perf_counter() - t0) * 1000, 1)
        out_load = [round(x, 2) for x in os.getloadavg()]
        today = last + dt.timedelta(days=1)
        month = f"from={last - dt.timedelta(days=29)}&to={today}"  # 31 days
        out: dict[str, Any] = {
            "load_average_at_start": out_load,
            "year_by_day_first_read_ms": fill_ms,
            "dashboard": timed(client, "/api/v1/admin/reports/dashboard", runs, headers),
            "year_by_day": timed(client, f"{sales}?{year}&group=day", runs, headers),
            "year_to_today_by_day": timed(
                client,
                f"{sales}?from={first + dt.timedelta(days=1)}&to={today}&group=day",
                runs,
                headers,
            ),
            "year_by_hour": timed(client, f"{sales}?{year}&group=hour", runs, headers),
            "year_by_payment_method": timed(
                client, f"{sales}?{year}&group=payment_method", runs, headers
            ),
            "month_to_today_by_day": timed(client, f"{sales}?{month}&group=day", runs, headers),
            "year_by_dish": timed(
                client, f"/api/v1/admin/reports/dishes?{year}", max(3, runs // 4), headers
            ),
            "year_by_category": timed(
                client,
                f"/api/v1/admin/reports/dishes?{year}&group=category",
                max(3, runs // 4),
                headers,
            ),
            "year_cash_drawer": timed(
                client, f"/api/v1/admin/reports/cash-drawer?{year}", max(3, runs // 4), headers
            ),
        }
        out["feedback_csv_year"] = stream_csv(
            client, f"/api/v1/admin/reports/feedback.csv?{year}", headers, pid
        )
        out["refunds_csv_year"] = stream_csv(
            client, f"/api/v1/admin/reports/refunds.csv?{year}", headers, pid
        )
        # The machine is shared: the load says how far two runs' times compare.
        out["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        return out


def run(orders: int, runs: int, reuse: str | None = None, keep: bool = False) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="canteen-bench-reports-"))
    db = reuse or f"canteen_bench_reports_{int(time.time())}"
    # A reused database was generated by an earlier run (--keep): the API migrates it on
    # start, so a before/after pair measures the same rows.
    url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{db}" if reuse else infra.recreate_database(ADMIN_URL, db)
    # The year ends yesterday in the canteen's zone, so "today" on the dashboard has last
    # week's rows to compare with and the year report reads 365 full days.
    today = (
        dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30))).date()
    )
    first, last = today - dt.timedelta(days=365), today - dt.timedelta(days=1)
    if reuse:
        first, last = _generated_days(url)
    result: dict[str, Any] = {"orders": orders, "from": str(first), "to": str(last), "runs": runs}
    result["database"] = db
    try:
        with infra.private_redis(work, SERVER_CPUS) as redis_base:
            port = infra.free_port()
            env = infra.app_env(
                work=work,
                database_url=url.replace("postgresql://", "postgresql+asyncpg://"),
                redis_base=redis_base,
                redis_db=10,
                port=port,
                sandbox_port=None,
            )
            api = infra.start_api(env, port, 1, work / "api.log", SERVER_CPUS)
            try:
                if reuse:
                    result["generated"] = {"reused": db}
                else:
                    result["generated"] = generate(url, orders, first)
                print("generated:", result["generated"], flush=True)
                pid = api.serving_pids()[0] if api.serving_pids() else api.pid
                result["measured"] = measure(f"http://127.0.0.1:{port}", pid, first, last, runs)
            finally:
                api.stop()
    finally:
        if not keep:
            infra.drop_database(ADMIN_URL, db)
    return result


def _generated_days(url: str) -> tuple[dt.date, dt.date]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT min(business_date), max(business_date) FROM orders").fetchone()
    assert row and row[0], "the reused database has no orders"
    return row[0], row[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40, help="requests per timed report")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a kept database again")
    args = parser.parse_args()
    started = dt.datetime.now(dt.UTC)
    result = run(args.orders, args.runs, args.reuse, args.keep)
    result["started"] = started.isoformat(timespec="seconds")
    result["seconds"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{started:%Y%m%dT%H%M%SZ}-reports.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"results: {out.relative_to(infra.ROOT)}")


if __name__ == "__main__":
    main()
