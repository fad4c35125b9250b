"""The placement's hot statements sent straight to asyncpg (issue 20).

SQLAlchemy's execution path (the session's, then the connection's: the statement's cache
key and compiled form looked up, its parameters and result metadata built) costs 100-200
µs of CPU per statement before the driver is called: more than asyncpg's own work and
PostgreSQL's for a one-row insert. The few Core statements every placement runs are
compiled here once, and sent through the session's own connection, inside its
transaction, to asyncpg directly. Their parameters and results pass through the type
processors SQLAlchemy applies (the same compiled SQL, the same `process_bind_param`), so a
row written this way is the row SQLAlchemy would have written.

Everything else takes SQLAlchemy's own path, so each statement and its callers stay one
implementation on both backends:

- SQLite, the embedded default: aiosqlite hands each call to its thread either way;
- an engine with cursor listeners (OpenTelemetry's SQL spans): they must see every
  statement.

A transaction asyncpg has not begun yet (the request's first statement) is begun here as
SQLAlchemy's adapter begins it before its first statement, except by a read marked
`in_transaction=False` (the account's read on every request, the settings row, an order,
its lines, history and payment, the active slots): in READ COMMITTED each statement sees
what was committed when it started, in a transaction or not, and a plain SELECT holds no
row lock in one, so such a read runs on its own and the transaction begins with the next
statement. A request that only reads (a customer's order, the apps' settings, the order
socket's snapshot) then makes no BEGIN and no COMMIT, and a placement that ends its read
transaction before waiting for its turn (`end_read_transaction`) has none to end. A write
that is all its transaction writes may be marked so too (a UPI order's payment, a first
account, the common placement's one statement): sent first, it commits as it runs.

Rows read here can be turned into ORM objects as a query loads them (`Loaded`): the same
attributes, persistent in the session, without the query's per-row machinery.

A driver error is raised as SQLAlchemy raises it (`sqlalchemy.exc.DBAPIError` and its
kinds, the connection invalidated when it was lost), so callers cannot tell the paths apart.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Float, Numeric, Table, insert, inspect, select
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapper, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.base import instance_state
from sqlalchemy.sql import ClauseElement, ColumnElement, Executable, Insert, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import iterate
from sqlalchemy.types import TypeEngine

from canteen.core.one_of import OneOf

Processor = Callable[[Any], Any]
_KEPT_CONNECTION = "canteen.direct.connection"
M = TypeVar("M")
_NOTHING = object()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Per positional parameter: its name, its value when the statement carries one, and
    # the type's bind processor.
    params: tuple[tuple[str, Any, Processor | None], ...]
    results: tuple[Processor | None, ...]


class DirectStatement:
    """A Core statement run on asyncpg directly where it can be (see the module's note)."""

    def __init__(
        self,
        statement: Executable,
        *,
        column_keys: Sequence[str] | None = None,
        in_transaction: bool = True,
    ):
        """`column_keys`: for an INSERT or UPDATE, the columns every call gives (all of
        them are always given: a column's Python default is never applied here).
        `in_transaction=False`: a statement that may run before the session's transaction
        has begun on the server, and then begins nothing: a plain read (no lock), or an
        INSERT (or a SELECT whose WITH writes) that is all its transaction writes, which
        then commits as it runs (one statement is atomic on its own). Run after the
        transaction has begun, either is part of it."""
        locks = getattr(statement, "_for_update_arg", None) is not None
        alone = isinstance(statement, Insert) or (isinstance(statement, Select) and not locks)
        if not in_transaction and not alone:
            raise ValueError(
                "only a SELECT that locks nothing or an INSERT may run outside the transaction"
            )
        self.statement = statement
        self._in_transaction = in_transaction
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[str, _Compiled] = {}

    @property
    def columns(self) -> tuple[ColumnElement[Any], ...]:
        """The columns of the rows it returns, in their order (for `Loaded`)."""
        return tuple(getattr(self.statement, "exported_columns", ()))

    async def execute(self, session: AsyncSession, params: Mapping[str, Any]) -> None:
        await self._run(session, params, "execute")

    async def scalar(self, session: AsyncSession, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None without a row."""
        return await self._run(session, params, "scalar")

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row, as a tuple of the statement's columns."""
        conn, compiled, raw = await self._prepare(session)
        if raw is None:
            return [tuple(row) for row in await conn.execute(self.statement, params)]
        args = _args(compiled, params)
        try:
            records = await raw.driver_connection.fetch(compiled.sql, *args)
        except Exception as error:
            await _raise_as_sqlalchemy(conn, raw, error, compiled.sql, args)
        processors = compiled.results
        if not any(processors):
            return [tuple(record) for record in records]
        return [tuple(map(_processed, processors, record)) for record in records]

    async def execute_many(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        conn, compiled, raw = await self._prepare(session)
        if raw is None:
            await conn.execute(self.statement, list(rows))
            return
        args = [_args(compiled, row) for row in rows]
        try:
            await raw.driver_connection.executemany(compiled.sql, args)
        except Exception as error:
            await _raise_as_sqlalchemy(conn, raw, error, compiled.sql, args)

    async def _run(self, session: AsyncSession, params: Mapping[str, Any], how: str) -> Any:
        conn, compiled, raw = await self._prepare(session)
        if raw is None:
            result = await conn.execute(self.statement, params)
            return result.scalar() if how == "scalar" else None
        args = _args(compiled, params)
        try:
            if how == "scalar":
                value = await raw.driver_connection.fetchval(compiled.sql, *args)
            else:
                await raw.driver_connection.execute(compiled.sql, *args)
                return None
        except Exception as error:
            await _raise_as_sqlalchemy(conn, raw, error, compiled.sql, args)
        return _processed(compiled.results[0], value) if compiled.results else value

    async def _prepare(
        self, session: AsyncSession
    ) -> tuple[AsyncConnection, _Compiled, Any | None]:
        """The session's connection, the statement compiled for it, and the asyncpg
        adapter when the direct path may be taken (None: SQLAlchemy's path)."""
        conn, raw = await _direct_connection(session, begin=self._in_transaction)
        return conn, self._compiled_for(conn.dialect), raw

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        # Compiled on either path: a statement this path cannot run faithfully is refused
        # on the first call on every backend, not only where the direct path is taken.
        # By driver too: asyncpg's and SQLite's drivers take parameters differently.
        key = f"{dialect.name}+{dialect.driver}"
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _compile(self.statement, dialect, self._column_keys)
        return compiled


def _compile(statement: Executable, dialect: Dialect, keys: list[str] | None) -> _Compiled:
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect, column_keys=keys)
    assert isinstance(compiled, SQLCompiler)
    # What SQLAlchemy would add at run time, which this path does not do: refuse it here,
    # when the statement is first run, not by writing a different row.
    if compiled.insert_prefetch or compiled.update_prefetch:
        missing = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
        raise ValueError(f"columns with Python defaults must be given: {missing}")
    # A list is one parameter (`one_of`): an array on PostgreSQL, SQLAlchemy's expanding
    # IN elsewhere, where this path is not taken. Any other expanding one is refused.
    lists = {e.name for e in iterate(statement) if isinstance(e, OneOf)}
    expanding = {bind.key for bind in compiled.post_compile_params} - lists
    if compiled.literal_execute_params or expanding:
        raise ValueError("expanding or literal-execute parameters are not supported")
    if compiled.positiontup is None:
        raise ValueError(f"{dialect.name} does not take positional parameters")
    params = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        value = bind.effective_value if not bind.required else _NOTHING
        params.append((bind.key, value, bind.type.dialect_impl(dialect).bind_processor(dialect)))
    columns = getattr(statement, "exported_columns", ())
    results = tuple(_result_processor(c.type, dialect) for c in columns)
    return _Compiled(compiled.string, tuple(params), results)


# asyncpg's numeric types choose their result processor by the column's type OID, which
# SQLAlchemy's path reads off the cursor; a column here is of its declared type.
_FLOAT8, _NUMERIC = 701, 1700


def _result_processor(type_: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    coltype = (
        _FLOAT8 if isinstance(type_, Float) else _NUMERIC if isinstance(type_, Numeric) else None
    )
    processor: Processor | None = type_.dialect_impl(dialect).result_processor(dialect, coltype)
    return processor


def _processed(process: Processor | None, value: Any) -> Any:
    """A result value as SQLAlchemy's path returns it (processors never see NULL)."""
    return process(value) if process is not None and value is not None else value


def _args(compiled: _Compiled, given: Mapping[str, Any]) -> list[Any]:
    args = []
    for name, own, process in compiled.params:
        value = given.get(name, own)
        if value is _NOTHING:
            raise KeyError(f"no value for the parameter {name!r}")
        args.append(process(value) if process is not None else value)
    return args


async def _session_connection(session: AsyncSession) -> AsyncConnection:
    """`session.connection()`, kept for the session's transaction: asking the session each
    time costs a greenlet switch and its transaction's look-ups (20-30 µs a statement)."""
    sync_session = session.sync_session
    transaction = sync_session.get_transaction()
    kept = session.info.get(_KEPT_CONNECTION)
    if (
        kept is not None
        and kept[0]() is transaction
        and transaction is not None
        and transaction.is_active
        and not sync_session.in_nested_transaction()
    ):
        conn: AsyncConnection = kept[1]
        return conn
    conn = await session.connection()
    # The transaction by a weak reference: a strong one makes a cycle (the session, its
    # info, the transaction, the session again), and a session in a cycle waits, with its
    # transaction, connections and objects, for the garbage collector, whose full
    # collections stop the event loop (40-90 ms each in the lunch rush; issue 20).
    transaction = sync_session.get_transaction()
    assert transaction is not None
    session.info[_KEPT_CONNECTION] = (weakref.ref(transaction), conn)
    return conn


async def _direct_connection(
    session: AsyncSession, *, begin: bool = True
) -> tuple[AsyncConnection, Any | None]:
    """The session's connection, and its asyncpg adapter when the direct path may be taken
    (`begin`: with the server's transaction begun)."""
    conn = await _session_connection(session)
    sync: Connection = conn.sync_connection  # type: ignore[assignment]
    if (
        sync.dialect.driver != "asyncpg"
        or sync.invalidated
        or sync.dispatch.before_cursor_execute
        or sync.dispatch.after_cursor_execute
    ):
        return conn, None
    raw = sync.connection.dbapi_connection
    if raw is None or not hasattr(raw, "_started"):
        return conn, None
    if begin and not raw._started:
        # What the adapter does before its first statement (and then only for a
        # transaction: an autocommit connection stays unstarted, and takes SQLAlchemy's path).
        try:
            await raw._start_transaction()
        except Exception as error:
            await _raise_as_sqlalchemy(conn, raw, error, "BEGIN", ())
        if not raw._started:
            return conn, None
    return conn, raw


async def _raise_as_sqlalchemy(
    conn: AsyncConnection, raw: Any, error: Exception, sql: str, args: Any
) -> None:
    """Raise `error` as SQLAlchemy's path would have: translated by the adapter into its
    DB-API kind, then wrapped (and the connection invalidated if it was lost)."""

    def reraise(sync: Connection) -> None:
        try:
            raw._handle_exception(error)
        except Exception as dbapi_error:
            sync._handle_dbapi_exception(dbapi_error, sql, args, None, None)
            raise

    await conn.run_sync(reraise)
    raise error  # not reached: reraise always raises


DIALECTS = ("postgresql", "sqlite")


class PerDialect:
    """A statement whose SQL differs by backend (an `INSERT … ON CONFLICT`, a lock only
    PostgreSQL takes): one `DirectStatement` per dialect, built and compiled once, and the
    session's own chosen per call."""

    def __init__(self, build: Callable[[str], DirectStatement]) -> None:
        self._by_dialect = {name: build(name) for name in DIALECTS}

    def of(self, session: AsyncSession) -> DirectStatement:
        return self._by_dialect[session.get_bind().dialect.name]

    @property
    def columns(self) -> tuple[ColumnElement[Any], ...]:
        """The columns of the rows it returns (the same on every backend)."""
        return self._by_dialect[DIALECTS[0]].columns


def writes_in_one_with(session: AsyncSession) -> bool:
    """Whether the session's backend takes data-modifying `WITH` (PostgreSQL does, SQLite
    does not): several writes that depend on each other sent as one statement."""
    return session.get_bind().dialect.name == "postgresql"


def upsert(dialect: str, table: Table) -> PgInsert | SqliteInsert:
    """`INSERT` into `table` as `dialect` writes it, with its `ON CONFLICT` clauses."""
    return pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)


def insert_once(dialect: str, table: Table, *, key: ColumnElement[Any]) -> Insert:
    """`INSERT … ON CONFLICT (key) DO NOTHING RETURNING key` in `dialect`: the key comes
    back only when this call stored the row (SQLite since 3.35, PostgreSQL)."""
    return upsert(dialect, table).on_conflict_do_nothing(index_elements=[key]).returning(key)


class WholeRowInsert:
    """An INSERT giving every column of `table`, None where a row names none: one statement
    shape, compiled once, and rows that `Loaded` turns into objects with nothing left to
    load. A column's Python default is not applied: the caller names every value it needs."""

    def __init__(self, table: Table, *, in_transaction: bool = True) -> None:
        """`in_transaction=False`: see `DirectStatement` (a row that may be all its
        transaction writes)."""
        self.columns = tuple(column.key for column in table.columns)
        self._known = frozenset(self.columns)
        self._table_name = table.name
        self._statement = DirectStatement(
            insert(table), column_keys=self.columns, in_transaction=in_transaction
        )

    def row(self, **values: Any) -> dict[str, Any]:
        """The row to insert; a name that is not a column is a mistake, refused here."""
        unknown = values.keys() - self._known
        if unknown:
            raise ValueError(f"not columns of {self._table_name}: {sorted(unknown)}")
        return {key: values.get(key) for key in self.columns}

    async def execute(self, session: AsyncSession, row: Mapping[str, Any]) -> None:
        await self._statement.execute(session, row)

    async def execute_many(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        await self._statement.execute_many(session, rows)

    async def add(self, session: AsyncSession, row: Mapping[str, Any], loaded: Loaded[M]) -> M:
        """Insert `row` and make it the session's object, persistent as if loaded: the rest
        of the request reads it as usual, and nothing is written twice."""
        await self._statement.execute(session, row)
        obj = loaded.from_mapping(row)
        session.add(obj)
        return obj


class Loaded(Generic[M]):
    """ORM objects of `cls` built from rows of `columns` as a query loads them.

    Loading a row through a query costs ~100 µs of CPU per object in the ORM's per-row
    machinery, building one through the constructor more (an attribute event per column).
    Here the values go straight into the object's state, and the object is given its
    identity, as the loader does: no attribute is modified or expired, nothing is pending.
    Relationships not given stay unloaded, as after a query that did not load them.
    """

    def __init__(self, cls: type[M], columns: Iterable[ColumnElement[Any]]) -> None:
        mapper = _mapper(cls)
        columns = tuple(columns)
        self._cls = cls
        self._manager = mapper.class_manager
        self._keys = tuple(mapper.get_property_by_column(column).key for column in columns)
        self._column_keys = tuple(str(column.key) for column in columns)
        self._configured = False

    @classmethod
    def of_table(cls, model: type[M]) -> Loaded[M]:
        """For every column of the model's table, in the table's order: rows given by
        column key (`from_mapping`). Rows a statement returns take its own `columns`."""
        mapper = _mapper(model)
        return cls(model, mapper.local_table.columns)

    def one(self, values: Sequence[Any], **related: Any) -> M:
        """The object of one row; `related`: relationships to set as loaded."""
        if not self._configured:
            # A query configures the mappers on first use; a process whose first read is
            # this one (a Celery worker's first job) must too, or no attribute is set up.
            configure_mappers()
            self._configured = True
        obj: M = self._manager.new_instance()
        instance_state(obj).dict.update(zip(self._keys, values, strict=True))
        for key, value in related.items():
            set_committed_value(obj, key, value)
        make_transient_to_detached(obj)
        return obj

    async def attach(
        self, session: AsyncSession, values: Sequence[Any], *, fresh: bool = False
    ) -> M:
        """The session's object for one row, as a query returns it (see `adopt`)."""
        return await adopt(session, self.one(values), fresh=fresh)

    def from_mapping(self, row: Mapping[str, Any], **related: Any) -> M:
        """The object of one row given by column key."""
        return self.one([row[key] for key in self._column_keys], **related)


class OneToMany:
    """`one` with `many` outer-joined to it on `on`, in one statement where reading each
    table costs a round trip of its own (issue 20): `select` to add the statement's
    `where` and order to, and `split` for its rows. A row per row of `many`, `one`'s
    columns first; a `one` without any `many` comes as one row whose `many` columns are
    all NULL."""

    def __init__(self, one: Table, many: Table, on: ColumnElement[bool]) -> None:
        self.select = select(one, many).select_from(one.outerjoin(many, on))
        self._split = len(one.columns)
        (key,) = many.primary_key.columns
        self._many_key = self._split + list(many.columns).index(key)

    def split(self, rows: Sequence[Sequence[Any]]) -> tuple[Sequence[Any], list[Sequence[Any]]]:
        """`one`'s values (of the first row: every row repeats them), and `many`'s rows.
        `rows`: at least one (no row: no `one`, for the caller to tell)."""
        many = [row[self._split :] for row in rows if row[self._many_key] is not None]
        return rows[0][: self._split], many


async def adopt(
    session: AsyncSession, obj: M, *, related: Iterable[object] = (), fresh: bool = False
) -> M:
    """`obj`, an object `Loaded` built from a row just read (with `related`, the objects
    it was given as loaded relationships), as the session's object.

    Added as persistent when the session holds none of them. Otherwise the session's own
    object is returned, read again the ORM's way as a query returns it: refreshed if it
    was expired and, with `fresh`, in any case (`populate_existing`: after a lock only the
    database's values count, since a racing request may have just changed the row)."""
    keys = [instance_state(obj).key, *(instance_state(other).key for other in related)]
    if any(key is not None and key in session.identity_map for key in keys):
        key = keys[0]
        assert key is not None
        known = await session.get(type(obj), key[1], populate_existing=fresh)
        assert known is not None  # its row was read a moment ago
        return known
    session.add(obj)
    return obj


def _mapper(cls: type[Any]) -> Mapper[Any]:
    mapper = inspect(cls, raiseerr=True)
    assert isinstance(mapper, Mapper)
    return mapper
