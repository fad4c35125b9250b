"""Shared set-up for the kitchen capacity and estimate tests (issue 16, parts 2 and 3)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from canteen.core.clock import process_now
from canteen.kitchen.models import KitchenWindow
from conftest import API, bearer

TZ = ZoneInfo("Asia/Kolkata")


def set_local_time(clock: Any, hour: int, minute: int = 0) -> datetime:
    """Move the server's clock to the next hour:minute in the canteen's zone; returns it."""
    local = process_now().astimezone(TZ)
    target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=1)
    clock.set_to(target)
    return target


def local_day(clock: Any) -> datetime:
    return clock.now().astimezone(TZ).replace(hour=0, minute=0, second=0, microsecond=0)


def at(clock: Any, hhmm: str) -> datetime:
    """That wall-clock time on the clock's local day, in UTC."""
    h, m = (int(x) for x in hhmm.split(":"))
    return (local_day(clock) + timedelta(hours=h, minutes=m)).astimezone(UTC)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def set_capacity(client: Any, admin: dict[str, Any], slot: str, minutes: int | None) -> Any:
    r = await client.put(
        f"{API}/admin/kitchen/capacity",
        json={"time_slot": slot, "minutes_per_window": minutes},
        headers=bearer(admin),
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def used(container: Any, slot: str) -> dict[str, int]:
    """Used minutes per window start (local "HH:MM")."""
    async with container.sessionmaker() as s:
        rows = (
            await s.execute(
                select(KitchenWindow.window_start, KitchenWindow.used_minutes).where(
                    KitchenWindow.slot_code == slot
                )
            )
        ).tuples()
        return {f"{start.astimezone(TZ):%H:%M}": n for start, n in rows if n}


async def waiting_on_a_lock(container: Any) -> None:
    """Until some backend of this database waits for a row lock (PostgreSQL: a request
    that reached a row a test holds)."""
    for _ in range(200):
        async with container.sessionmaker() as s:
            n = await s.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
        if n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the request never waited for the held row")
