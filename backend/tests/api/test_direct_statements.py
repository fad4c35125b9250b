"""The placement's hot statements go straight to asyncpg on PostgreSQL and through
SQLAlchemy elsewhere (issue 20, `canteen.core.direct`): either way the same rows, in the
session's own transaction, failing with SQLAlchemy's errors. The event log's insert
(`events.service.insert_event_row`, one of them) stands for all: it carries UUIDs, a JSON
document and a timestamp through the type processors."""

from __future__ import annotations

import gc
import uuid
import weakref
from typing import Any

import pytest
from sqlalchemy import bindparam, event, func, insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.direct import (
    DirectStatement,
    Loaded,
    OneToMany,
    WholeRowInsert,
    _direct_connection,
)
from canteen.core.once import JobMark, mark_once
from canteen.core.one_of import one_of
from canteen.events.models import Event
from canteen.events.service import _EVENTS, _INSERT_EVENT, event_values, insert_event_row
from canteen.events.types import EventType
from canteen.users.models import User
from canteen_testkit.stack import BACKEND

_USERS = User.__table__
DATA = {"note": "масала dosa, two", "total": 12050, "items": [{"name": "chai", "options": []}]}


async def _direct_taken(session: AsyncSession) -> bool:
    return (await _direct_connection(session))[1] is not None


async def _write(session: AsyncSession, marker: str) -> None:
    row = event_values(
        EventType.order_status_changed,
        data={**DATA, "marker": marker},
        order_id=None,
        order_number="ORD-20261206-001",
        status="preparing",
        payment_status="cash_due",
        actor_id=None,
    )
    await insert_event_row(session, row)


async def _events(container: Any, marker: str) -> list[Event]:
    async with container.sessionmaker() as s:
        rows = await s.scalars(select(Event).where(Event.data["marker"].as_string() == marker))
        return list(rows)


class _Statements:
    """What SQLAlchemy's cursor sees while attached (its presence alone sends every
    statement down SQLAlchemy's path, as OpenTelemetry's SQL spans need)."""

    def __init__(self, container: Any) -> None:
        self.engine = container.engine.sync_engine
        self.seen: list[str] = []

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append(statement.split()[0] + " " + statement.split()[2])

    def __enter__(self) -> _Statements:
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_execute)


async def test_the_direct_path_is_taken_on_postgresql_only_without_cursor_listeners(container):
    async with container.sessionmaker() as s:
        assert await _direct_taken(s) == (BACKEND == "postgres")
        with _Statements(container):
            assert not await _direct_taken(s)
        assert await _direct_taken(s) == (BACKEND == "postgres")


async def test_a_sessions_first_statement_sent_directly_begins_its_transaction(container):
    # Without the BEGIN asyncpg would run the insert on its own and keep it.
    async with container.sessionmaker() as s:
        await _write(s, "first, rolled back")
        await s.rollback()
    assert await _events(container, "first, rolled back") == []
    async with container.sessionmaker() as s:
        await _write(s, "first, committed")
        await s.commit()
    assert len(await _events(container, "first, committed")) == 1


async def test_a_read_outside_the_transaction_begins_nothing_and_the_next_statement_does(
    container,
):
    read = DirectStatement(
        select(_USERS.c.id).where(_USERS.c.id == bindparam("user_id")), in_transaction=False
    )
    async with container.sessionmaker() as s:
        assert await read.rows(s, {"user_id": uuid.uuid4()}) == []
        raw = (await s.connection()).sync_connection.connection.dbapi_connection
        if BACKEND == "postgres":
            assert raw._started is False  # no BEGIN was sent
        # The write after it begins the transaction, so a rollback still undoes it.
        await _write(s, "after an outside read, rolled back")
        if BACKEND == "postgres":
            assert raw._started is True
        await s.rollback()
    assert await _events(container, "after an outside read, rolled back") == []


def test_only_a_plain_read_or_an_insert_may_run_outside_the_transaction():
    with pytest.raises(ValueError, match="only a SELECT that locks nothing or an INSERT"):
        DirectStatement(update(_USERS).values(name="x"), in_transaction=False)
    with pytest.raises(ValueError, match="only a SELECT that locks nothing or an INSERT"):
        DirectStatement(select(_USERS.c.id).with_for_update(), in_transaction=False)


async def test_an_insert_outside_the_transaction_commits_alone_run_first_and_joins_it_after(
    container,
):
    """A row that is all its transaction writes (a just-placed order's payment): run as
    the session's first statement on PostgreSQL, no BEGIN is sent and the row is there
    for everyone as the statement ends. After a statement that began the transaction, it
    is part of it, and a rollback takes it back. SQLite's path is SQLAlchemy's, always in
    the transaction."""
    alone = DirectStatement(
        insert(_EVENTS),
        column_keys=[c.key for c in _EVENTS.columns if c.key != "seq"],
        in_transaction=False,
    )

    def row(marker: str) -> dict[str, Any]:
        return event_values(
            EventType.order_status_changed,
            data={"marker": marker},
            order_id=None,
            order_number="ORD-20261207-001",
            status="ready",
            payment_status="cash_due",
            actor_id=None,
        )

    async with container.sessionmaker() as s:
        await alone.execute(s, row("alone, first"))
        raw = (await s.connection()).sync_connection.connection.dbapi_connection
        if BACKEND == "postgres":
            assert raw._started is False  # no BEGIN was sent
            assert len(await _events(container, "alone, first")) == 1  # before any commit
        await s.commit()
    assert len(await _events(container, "alone, first")) == 1

    async with container.sessionmaker() as s:
        await _write(s, "began the transaction")
        await alone.execute(s, row("alone, after a write"))
        if BACKEND == "postgres":  # SQLite's writer locks out the read until it ends
            assert await _events(container, "alone, after a write") == []  # not committed
        await s.rollback()
    assert await _events(container, "alone, after a write") == []
    assert await _events(container, "began the transaction") == []


def test_a_whole_row_names_every_column_and_refuses_any_other_name():
    """The placement's and the checkout's rows: a mistyped column would otherwise be
    dropped silently, and the column written as NULL."""
    rows = WholeRowInsert(_USERS)
    row = rows.row(id=uuid.uuid4(), phone="+919812345678")
    assert list(row) == [column.key for column in _USERS.columns]
    assert row["phone"] == "+919812345678" and row["name"] is None
    with pytest.raises(ValueError, match=r"not columns of users: \['phone_number'\]"):
        rows.row(id=uuid.uuid4(), phone_number="+919812345678")


async def test_an_event_written_directly_reads_back_as_one_written_by_sqlalchemy(container):
    async with container.sessionmaker() as s, s.begin():
        await s.execute(text("SELECT 1"))
        await _write(s, "direct")
        with _Statements(container) as through_sqlalchemy:
            await _write(s, "sqlalchemy")
    assert through_sqlalchemy.seen == ["INSERT events"]
    (direct,) = await _events(container, "direct")
    (plain,) = await _events(container, "sqlalchemy")
    assert direct.data == {**DATA, "marker": "direct"}
    columns = ("type", "order_id", "order_number", "status", "payment_status", "actor_id")
    assert [getattr(direct, c) for c in columns] == [getattr(plain, c) for c in columns]
    assert direct.created_at.utcoffset() is not None and direct.created_at <= plain.created_at


async def test_a_direct_statement_is_part_of_the_sessions_transaction(container):
    async with container.sessionmaker() as s:
        await s.execute(text("SELECT 1"))
        await _write(s, "rolled back")
        marked = Event.data["marker"].as_string() == "rolled back"
        assert await s.scalar(select(func.count()).where(marked)) == 1
        await s.rollback()
    assert await _events(container, "rolled back") == []
    async with container.sessionmaker() as s, s.begin():
        await s.execute(text("SELECT 1"))
        await _write(s, "committed")
    assert len(await _events(container, "committed")) == 1


async def test_each_transaction_of_a_session_gets_its_own_connection(container):
    # The connection is kept for a transaction: after its commit, the next statement must
    # begin a new one, not write through the connection the commit gave back.
    async with container.sessionmaker() as s:
        await _write(s, "kept, committed")
        await s.commit()
        await s.execute(text("SELECT 1"))  # the next transaction begun by SQLAlchemy
        await _write(s, "kept, then rolled back")
        await s.rollback()
        await _write(s, "kept, committed again")  # begun by the direct path
        await s.commit()
    assert len(await _events(container, "kept, committed")) == 1
    assert await _events(container, "kept, then rolled back") == []
    assert len(await _events(container, "kept, committed again")) == 1


async def test_a_driver_error_is_sqlalchemys_and_writes_nothing(container):
    event_id = uuid.uuid4()
    row = {
        "id": event_id,
        "type": "order.status_changed",
        "data": {"marker": "twice"},
        "order_id": None,
        "order_number": None,
        "status": None,
        "payment_status": None,
        "actor_id": None,
        "created_at": container.clock.now(),
        "dispatched_at": None,
    }
    async with container.sessionmaker() as s:
        await s.execute(text("SELECT 1"))
        await _INSERT_EVENT.execute(s, row)
        with pytest.raises(IntegrityError):
            await _INSERT_EVENT.execute(s, row)
        await s.rollback()
        # The session goes on after its rollback, as after any failed statement.
        assert await s.scalar(select(func.count()).where(Event.id == event_id)) == 0
    assert await _events(container, "twice") == []


@pytest.mark.skipif(BACKEND != "postgres", reason="asyncpg's connection, PostgreSQL's backend")
async def test_a_connection_lost_under_a_direct_statement_is_invalidated(container):
    async with container.sessionmaker() as s:
        pid = await s.scalar(text("SELECT pg_backend_pid()"))
        async with container.sessionmaker() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
            await other.commit()
        with pytest.raises(DBAPIError) as lost:
            await _write(s, "lost")
        assert lost.value.connection_invalidated
        await s.rollback()
    assert await _events(container, "lost") == []
    async with container.sessionmaker() as s:  # the pool hands out a working connection
        assert await s.scalar(text("SELECT 1")) == 1


async def test_rows_read_directly_load_as_a_query_loads_them(container):
    async with container.sessionmaker() as s, s.begin():
        user = User(phone="+919800000001", name="Asha", role="customer")
        s.add(user)
    async with container.sessionmaker() as s:
        queried = await s.scalar(select(User).where(User.id == user.id))
    by_id = DirectStatement(select(_USERS).where(_USERS.c.id == bindparam("id")))
    loaded = Loaded.of_table(User)
    async with container.sessionmaker() as s:
        (row,) = await by_id.rows(s, {"id": user.id})
        direct = loaded.one(row)
        s.add(direct)
        state = inspect(direct)
        assert state.persistent and not state.modified and not state.expired_attributes
        columns = [c.key for c in inspect(User).column_attrs]
        assert [getattr(direct, c) for c in columns] == [getattr(queried, c) for c in columns]
        assert direct.created_at.utcoffset() is not None
        # Attached as loaded: a change is flushed as an UPDATE of that row, nothing else.
        direct.name = "Asha K"
        await s.commit()
    async with container.sessionmaker() as s:
        assert [u.name for u in await s.scalars(select(User).where(User.phone == user.phone))] == [
            "Asha K"
        ]
        assert await by_id.rows(s, {"id": uuid.uuid4()}) == []


async def test_a_one_to_many_join_is_split_into_the_one_and_its_many(container):
    """`OneToMany`: the one's values once, and the many's rows; none for a one without any
    (its row's many columns are all NULL)."""
    async with container.sessionmaker() as s, s.begin():
        user = User(phone="+919800000002", name="Ravi", role="customer")
        s.add(user)
    events = Event.__table__
    user_and_events = OneToMany(_USERS, events, events.c.actor_id == _USERS.c.id)
    joined = DirectStatement(
        user_and_events.select.where(_USERS.c.id == bindparam("id")).order_by(events.c.seq)
    )
    split = user_and_events.split
    loaded_user, loaded_event = Loaded.of_table(User), Loaded.of_table(Event)
    async with container.sessionmaker() as s:
        one, many = split(await joined.rows(s, {"id": user.id}))
        assert loaded_user.one(one).name == "Ravi" and many == []
    async with container.sessionmaker() as s, s.begin():
        for marker in ("first", "second"):
            row = event_values(
                EventType.order_status_changed,
                data={"marker": marker},
                order_id=None,
                order_number=None,
                status=None,
                payment_status=None,
                actor_id=user.id,
            )
            await insert_event_row(s, row)
    async with container.sessionmaker() as s:
        one, many = split(await joined.rows(s, {"id": user.id}))
        assert loaded_user.one(one).id == user.id
        assert [loaded_event.one(row).data["marker"] for row in many] == ["first", "second"]


async def test_a_statement_this_path_cannot_run_faithfully_is_refused_on_every_backend(container):
    # created_at's Python default would be left out: refused, not a row without it.
    without_default = DirectStatement(insert(_EVENTS), column_keys=["id", "type", "data"])
    expanding = DirectStatement(
        select(Event.seq).where(Event.seq.in_(bindparam("seqs", expanding=True)))
    )
    async with container.sessionmaker() as s:
        await s.execute(text("SELECT 1"))
        with pytest.raises(ValueError, match="created_at"):
            await without_default.execute(s, {"id": uuid.uuid4(), "type": "x", "data": {}})
        with pytest.raises(ValueError, match="expanding"):
            await expanding.scalar(s, {"seqs": [1]})
        await s.rollback()
    assert await _events(container, "refused") == []


async def test_a_done_once_mark_is_stored_once_and_vanishes_with_its_rollback(container):
    """`core.once.mark_once`, an `INSERT … ON CONFLICT DO NOTHING RETURNING` per backend
    (`PerDialect`, `insert_once`): the first transaction to mark a key is told so; a
    rolled-back mark leaves the key free; a later one finds it taken."""
    key = f"test:{uuid.uuid4()}"
    async with container.sessionmaker() as s, s.begin():
        assert await mark_once(s, key)
        await s.rollback()
    async with container.sessionmaker() as s, s.begin():
        assert await mark_once(s, key)
        assert not await mark_once(s, key)
    async with container.sessionmaker() as s, s.begin():
        assert not await mark_once(s, key)
        assert await s.scalar(select(func.count()).where(JobMark.key == key)) == 1


async def test_a_list_parameter_is_one_statement_whatever_its_length(container):
    """`one_of`: `= ANY(array)` on PostgreSQL, so one compiled statement takes a list of
    any length on the direct path; SQLAlchemy's expanding IN on SQLite. The rows are the
    same either way, an empty list matching none."""
    async with container.sessionmaker() as s, s.begin():
        users = [User(phone=f"+91980000010{i}", name=f"U{i}", role="customer") for i in range(3)]
        s.add_all(users)
    by_ids = DirectStatement(select(_USERS.c.name).where(one_of(_USERS.c.id, "ids")))
    async with container.sessionmaker() as s:
        for chosen in ([], users[:1], users[1:], [*users, User(id=uuid.uuid4())]):
            names = sorted(
                name for (name,) in await by_ids.rows(s, {"ids": [u.id for u in chosen]})
            )
            assert names == sorted(u.name for u in chosen if u.name)
        assert await _direct_taken(s) == (BACKEND == "postgres")
    sql = str(select(_USERS.c.id).where(one_of(_USERS.c.id, "ids")).compile(container.engine))
    assert ("= ANY" in sql) == (BACKEND == "postgres")


async def test_a_session_that_ran_a_direct_statement_is_freed_without_the_collector(container):
    """The connection kept for the session's transaction makes no reference cycle: a
    session in one would wait, with all it holds, for a full collection, which stopped
    the API's event loop for 40-90 ms every few seconds in the lunch rush (issue 20)."""
    by_id = DirectStatement(select(_USERS.c.id).where(_USERS.c.id == bindparam("id")))
    gc.collect()
    gc.disable()
    try:
        async with container.sessionmaker() as s:
            async with s.begin():
                assert await by_id.rows(s, {"id": uuid.uuid4()}) == []
            freed = weakref.ref(s.sync_session)
        del s
        assert freed() is None
    finally:
        gc.enable()
