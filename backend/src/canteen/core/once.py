"""Done-once marks for jobs whose effect is a database change (the daily stock refill),
and leases for jobs whose effect is a call outside it (a text, a printed ticket).

A mark is inserted in the same transaction as the effect: if the job dies before its
commit (a killed worker), mark and effect vanish together and the next run does the
work; once committed, every later run (a redelivered job, another process's sweep)
finds the mark and does nothing. A claim in Redis, taken before the work, would stay
behind a killed worker and skip the work for good.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import String, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from canteen.core.clock import Clock
from canteen.core.db import Base, UTCDateTime, unit_of_work, utcnow
from canteen.core.direct import DirectStatement, PerDialect, insert_once


class JobMark(Base):
    __tablename__ = "job_marks"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_MARKS: Table = JobMark.__table__  # type: ignore[assignment]
_MARK = PerDialect(
    lambda dialect: DirectStatement(
        insert_once(dialect, _MARKS, key=_MARKS.c.key), column_keys=("key", "created_at")
    )
)


async def mark_once(session: AsyncSession, key: str, *, at: datetime | None = None) -> bool:
    """True if this transaction is the first to mark `key` (then do the work in it).

    On PostgreSQL a second transaction inserting the same key waits for the first and
    then finds the key taken (or takes it, if the first rolled back); SQLite runs one
    writer at a time."""
    marked = await _MARK.of(session).scalar(session, {"key": key, "created_at": at or utcnow()})
    return marked is not None


async def take_lease(session: AsyncSession, key: str, *, now: datetime, seconds: float) -> bool:
    """True if this transaction now holds `key`: it was free, or taken more than `seconds`
    ago by a run that never finished (killed mid-way). Two transactions never both get it:
    PostgreSQL makes the second wait on the first's row, SQLite has one writer."""
    if await mark_once(session, key, at=now):
        return True
    result = await session.execute(
        update(JobMark)
        .where(JobMark.key == key, JobMark.created_at < now - timedelta(seconds=seconds))
        .values(created_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


class Outcome(StrEnum):
    done = "done"  # the effect ran now and is marked
    already = "already"  # marked by an earlier run
    busy = "busy"  # another run holds the lease and is doing it


async def effect_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    key: str,
    *,
    clock: Clock,
    lease_seconds: float,
    effect: Callable[[], Awaitable[None]],
) -> Outcome:
    """Run `effect`, a call outside the database (a text, a ticket), once per `key`.

    A lease row committed before the call keeps concurrent runs out; the done mark is
    committed after it. A run killed mid-call leaves its lease, which the next run takes
    over once `lease_seconds` have passed (longer than the call's own timeout): the effect
    is never lost, and is repeated only if the kill fell between the other side taking it
    and the mark's commit. A failed call gives the lease back for the retry."""
    lease = f"{key}:lease"
    taken_at = clock.now()
    async with unit_of_work(sessionmaker) as session:
        if not await take_lease(session, lease, now=taken_at, seconds=lease_seconds):
            return Outcome.busy
        # Read after taking the lease: a run that finished meanwhile is seen here.
        if await session.scalar(select(JobMark.key).where(JobMark.key == key)) is not None:
            await session.execute(delete(JobMark).where(JobMark.key == lease))
            return Outcome.already
    try:
        await effect()
    except BaseException:
        async with unit_of_work(sessionmaker) as session:
            # Only our own lease: a run that took it over is still at work.
            await session.execute(
                delete(JobMark).where(JobMark.key == lease, JobMark.created_at == taken_at)
            )
        raise
    async with unit_of_work(sessionmaker) as session:
        await mark_once(session, key, at=clock.now())
        await session.execute(delete(JobMark).where(JobMark.key == lease))
    return Outcome.done
