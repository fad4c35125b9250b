"""The statements one session sends, for the tests of the direct paths."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class StatementsSeen:
    """The statements a session's connection sends while this is open, each as its
    whitespace-joined text. Only that connection's: the outbox dispatcher claims events
    on its own connection meanwhile. Listening sends every statement down SQLAlchemy's
    path on PostgreSQL too (`canteen.core.direct`): the same compiled statement."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn.sync_connection
        self.seen: list[str] = []

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append(" ".join(statement.split()))

    def starts(self, words: int = 3) -> list[str]:
        """The first `words` words of each statement."""
        return [" ".join(sql.split()[:words]) for sql in self.seen]

    def __enter__(self) -> StatementsSeen:
        event.listen(self._conn, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self._conn, "before_cursor_execute", self._on_execute)


class ServerStatements:
    """What asyncpg sends through `engine`'s connections while this is open, per
    connection: the direct path's statements and BEGIN, COMMIT and ROLLBACK, which
    SQLAlchemy's events do not see. asyncpg's own query logger, so the direct path stays
    the one taken; it does not see the prepared statements of SQLAlchemy's own path (whose
    transaction still shows as a BEGIN). The pool is emptied on entry and exit, so every
    connection used meanwhile is made with the logger."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._by_connection: dict[int, list[str]] = defaultdict(list)

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        seen = self._by_connection[id(dbapi_connection)]

        def log(query: Any) -> None:
            if not _introspection(query.query):
                seen.append(_named(query.query))

        dbapi_connection.driver_connection.add_query_logger(log)

    def clear(self) -> None:
        for seen in self._by_connection.values():
            seen.clear()

    def on_connection_that_sent(self, statement: str) -> list[str]:
        """All a connection sent since `clear`, for the one that sent `statement` (a
        request's own connection, told apart from the outbox dispatcher's)."""
        (seen,) = [s for s in self._by_connection.values() if statement in s]
        return list(seen)

    async def __aenter__(self) -> ServerStatements:
        event.listen(self._engine.sync_engine, "connect", self._on_connect)
        await self._engine.dispose()
        return self

    async def __aexit__(self, *_: Any) -> None:
        event.remove(self._engine.sync_engine, "connect", self._on_connect)
        await self._engine.dispose()


def _introspection(sql: str) -> bool:
    """asyncpg's own reads of a type it has no codec for (an array of UUIDs or instants),
    once per connection and type, with its JIT setting around them: not the request's."""
    return "typeinfo_tree" in sql or "set_config('jit'" in sql or "current_setting('jit')" in sql


def _named(sql: str) -> str:
    """`SELECT <table>` (the first FROM), `INSERT <table>`, or the statement's first word."""
    words = sql.replace(";", " ").split()
    verb = words[0].upper()
    if verb == "SELECT" and "FROM" in words:
        return f"SELECT {words[words.index('FROM') + 1]}"
    if verb == "INSERT":
        return f"INSERT {words[2]}"
    return verb
