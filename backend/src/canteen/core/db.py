"""Database: declarative base, portable column types, engine and sessions.

The same models run on SQLite (embedded default) and PostgreSQL. Times are stored
as timezone-aware UTC; SQLite drops the zone, so `UTCDateTime` puts it back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, TypeDecorator, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

from canteen.core.clock import process_now

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return process_now()  # real time, but for a test run's shift (core.clock)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def make_engine(url: str, *, pool: bool = True) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # One writer at a time: wait for the lock instead of failing with "database is locked".
        kwargs["connect_args"] = {"timeout": 30}
    elif pool:
        # No pool_pre_ping: on asyncpg it is BEGIN, a query and ROLLBACK, three round trips
        # on every checkout of every request. _drop_closed_connections checks for free under
        # load and pings only connections that sat idle.
        kwargs.update(pool_size=10, max_overflow=20)
    if not pool:
        kwargs["poolclass"] = NullPool
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _tune_sqlite(engine)
    elif pool:
        _drop_closed_connections(engine)
    return engine


# A connection idle longer than this is pinged at checkout (a Celery worker's loop does not
# run between jobs, so it cannot have seen its sockets end); busy ones never are.
IDLE_PING_SECONDS = 1.0


def _drop_closed_connections(engine: AsyncEngine) -> None:
    """A pooled connection whose socket the server closed (a restart, a terminated
    backend) is replaced at checkout. Under load for free: asyncpg marks a connection
    closed as soon as a running event loop sees its socket end. A connection that sat idle
    longer than IDLE_PING_SECONDS gets the real ping (what pool_pre_ping did every time)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        raw = getattr(dbapi_conn, "_connection", None)
        if raw is not None and raw.is_closed():
            raise DisconnectionError("connection closed by the server")
        idle = time.monotonic() - record.info.get("checked_in", time.monotonic())
        if idle > IDLE_PING_SECONDS:
            try:
                dbapi_conn.ping()
            except Exception as exc:
                raise DisconnectionError("connection lost while idle") from exc


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN and breaks SERIALIZABLE-style
        # "BEGIN IMMEDIATE"; take control so writers queue instead of deadlocking.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_conn: Any, _record: Any, state: Any) -> None:
        # A COMMIT that SQLite refuses (a deferred foreign key, migration 0018) leaves its
        # transaction open, while SQLAlchemy takes it as ended and skips the pool's
        # rollback: end it here, or the pooled connection refuses every later BEGIN.
        if state.asyncio_safe and dbapi_conn._connection.in_transaction:
            dbapi_conn.rollback()


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run `hook` once the request's transaction has committed (never on rollback)."""
    session.info.setdefault("after_commit", []).append(hook)


async def run_after_commit(session: AsyncSession) -> None:
    hooks: list[AfterCommit] = session.info.pop("after_commit", [])
    for hook in hooks:
        await hook()


async def end_read_transaction(session: AsyncSession) -> None:
    """End the transaction the request's dependencies opened (authentication read the
    account) before the request waits on its client, so no database lock is held while a
    slow body arrives (on SQLite every transaction is a writer). What the request writes
    afterwards is one new transaction, committed by the unit of work as usual.

    Only for reads: a change already made would be committed here, half a request, so
    that is refused.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_read_transaction: the session holds unflushed changes")
    if session.in_transaction():
        await session.commit()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Commit on success, roll back on error, then run after-commit hooks."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            session.info.pop("after_commit", None)
            raise
        await run_after_commit(session)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The request's unit of work, as a FastAPI dependency."""
    async with unit_of_work(factory) as session:
        yield session
