"""PostgreSQL-side helpers: the CPU its backends spend for us, and setup done by SQL.

PostgreSQL runs on this machine, so each backend of the bench database is a process whose
CPU time `/proc` shows (as for the API): the backends' CPU over a run divided by the
orders placed is the database's CPU per order. Connections are pooled and long-lived, so
the set of backends read before and after a run covers nearly all of its work.
"""

from __future__ import annotations

import asyncpg

from bench.infra import cpu_seconds

# The kitchen's per-window capacity (issue 16) is a product rule the benchmarks do not
# measure: out of reach, so no bench order is refused SLOT_FULL however many are placed.
OUT_OF_REACH_MINUTES = 1_000_000_000


def _dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


async def backend_pids(database_url: str) -> list[int]:
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


class PgCpu:
    """CPU seconds of the database's backends between start() and stop()."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.before: dict[int, float] = {}

    async def start(self) -> None:
        self.before = {p: cpu_seconds(p) for p in await backend_pids(self.database_url)}

    async def stop(self) -> float:
        after = {p: cpu_seconds(p) for p in await backend_pids(self.database_url)}
        # A backend gone since start() took its last figures with it; a new one counts
        # from zero (its start-up is part of the run's cost).
        return sum(cpu - self.before.get(p, 0.0) for p, cpu in after.items())


async def wal_position(database_url: str) -> int:
    """PostgreSQL's WAL insert position in bytes: the difference across a run is what the
    run wrote (server-wide, so a quiet server's), and unlike CPU time it repeats."""
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        return int(
            await conn.fetchval("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')")
        )
    finally:
        await conn.close()


async def open_kitchen(database_url: str) -> None:
    """Every slot's kitchen capacity out of reach (when the capacity table exists)."""
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        if await conn.fetchval("SELECT to_regclass('kitchen_slot_capacity')") is None:
            return
        await conn.execute(
            "INSERT INTO kitchen_slot_capacity (slot_code, minutes_per_window) "
            "SELECT code, $1 FROM time_slots "
            "ON CONFLICT (slot_code) DO UPDATE "
            "SET minutes_per_window = excluded.minutes_per_window",
            OUT_OF_REACH_MINUTES,
        )
    finally:
        await conn.close()
