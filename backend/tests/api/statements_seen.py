"""The statements one session sends, for the tests of the direct paths."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection


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
