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
- a transaction asyncpg has not begun yet: SQLAlchemy begins it with its first statement
  (in the placement, the account's read has always run before);
- an engine with cursor listeners (OpenTelemetry's SQL spans): they must see every
  statement.

A driver error is raised as SQLAlchemy raises it (`sqlalchemy.exc.DBAPIError` and its
kinds, the connection invalidated when it was lost), so callers cannot tell the paths apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]
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

    def __init__(self, statement: Executable, *, column_keys: Sequence[str] | None = None):
        """`column_keys`: for an INSERT or UPDATE, the columns every call gives (all of
        them are always given: a column's Python default is never applied here)."""
        self.statement = statement
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[str, _Compiled] = {}

    async def execute(self, session: AsyncSession, params: Mapping[str, Any]) -> None:
        await self._run(session, params, "execute")

    async def scalar(self, session: AsyncSession, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None without a row."""
        return await self._run(session, params, "scalar")

    async def execute_many(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        conn, raw = await _direct_connection(session)
        compiled = self._compiled_for(conn.dialect)
        if raw is None:
            await conn.execute(self.statement, list(rows))
            return
        args = [_args(compiled, row) for row in rows]
        try:
            await raw.driver_connection.executemany(compiled.sql, args)
        except Exception as error:
            await _raise_as_sqlalchemy(conn, raw, error, compiled.sql, args)

    async def _run(self, session: AsyncSession, params: Mapping[str, Any], how: str) -> Any:
        conn, raw = await _direct_connection(session)
        compiled = self._compiled_for(conn.dialect)
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
        process = compiled.results[0] if compiled.results else None
        return process(value) if process is not None and value is not None else value

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
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("expanding or literal-execute parameters are not supported")
    if compiled.positiontup is None:
        raise ValueError(f"{dialect.name} does not take positional parameters")
    params = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        value = bind.effective_value if not bind.required else _NOTHING
        params.append((bind.key, value, bind.type.dialect_impl(dialect).bind_processor(dialect)))
    columns = getattr(statement, "exported_columns", ())
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    return _Compiled(compiled.string, tuple(params), results)


def _args(compiled: _Compiled, given: Mapping[str, Any]) -> list[Any]:
    args = []
    for name, own, process in compiled.params:
        value = given.get(name, own)
        if value is _NOTHING:
            raise KeyError(f"no value for the parameter {name!r}")
        args.append(process(value) if process is not None else value)
    return args


async def _direct_connection(session: AsyncSession) -> tuple[AsyncConnection, Any | None]:
    """The session's connection, and its asyncpg adapter when the direct path may be taken."""
    conn = await session.connection()
    sync: Connection = conn.sync_connection  # type: ignore[assignment]
    if (
        sync.dialect.driver != "asyncpg"
        or sync.invalidated
        or sync.dispatch.before_cursor_execute
        or sync.dispatch.after_cursor_execute
    ):
        return conn, None
    raw = sync.connection.dbapi_connection
    # SQLAlchemy's asyncpg adapter begins the transaction with the first statement.
    if raw is None or not getattr(raw, "_started", False):
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
