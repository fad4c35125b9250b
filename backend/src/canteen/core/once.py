"""Done-once marks for jobs whose effect is a database change (the daily stock refill).

A mark is inserted in the same transaction as the effect: if the job dies before its
commit (a killed worker), mark and effect vanish together and the next run does the
work; once committed, every later run (a redelivered job, another process's sweep)
finds the mark and does nothing. A claim in Redis, taken before the work, would stay
behind a killed worker and skip the work for good.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from canteen.core.db import Base, UTCDateTime, utcnow


class JobMark(Base):
    __tablename__ = "job_marks"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def mark_once(session: AsyncSession, key: str) -> bool:
    """True if this transaction is the first to mark `key` (then do the work in it).

    On PostgreSQL a second transaction inserting the same key waits for the first and
    then finds the key taken (or takes it, if the first rolled back); SQLite runs one
    writer at a time."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(JobMark)
        .values(key=key, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[JobMark.key])
    )
    return bool(getattr(result, "rowcount", 0))
