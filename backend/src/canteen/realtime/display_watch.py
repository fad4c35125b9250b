"""Ending a display's open stream once its token is revoked (issue 17, part 2).

The periodic re-check of realtime.recheck, as for accounts: while any display stream is
open, each process re-reads the watched display tokens every `CHECK_SECONDS`, so a revoke
made on any process, by the API or in SQL, ends the stream within about two seconds. A
handful of TVs cost one small query per round.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.displays.models import DisplayToken
from canteen.realtime.recheck import CHECK_SECONDS, Recheck

__all__ = ["CHECK_SECONDS", "REVOKED", "DisplayWatch"]

REVOKED = "revoked"  # revoked or deleted

End = Callable[[str], None]


class DisplayWatch(Recheck[uuid.UUID, End]):
    """Calls a stream's `end("revoked")` once its display token is revoked or gone."""

    task_name = "realtime-display-watch"
    what = "tokens of open displays"

    def watcher(self, display_id: uuid.UUID) -> Callable[[End], AbstractContextManager[None]]:
        """`watch` for realtime.kitchen_stream.stream_log, bound to one display."""
        return lambda end: self.watch(display_id, end)

    @contextmanager
    def watch(self, display_id: uuid.UUID, end: End) -> Iterator[None]:
        with self._watching(display_id, end):
            yield

    async def _endings(
        self, session: AsyncSession, watched: dict[uuid.UUID, set[End]]
    ) -> Iterable[tuple[uuid.UUID, End, str]]:
        live = set(
            await session.scalars(
                select(DisplayToken.id).where(
                    DisplayToken.id.in_(list(watched)), DisplayToken.revoked_at.is_(None)
                )
            )
        )
        return [
            (display_id, end, REVOKED)
            for display_id, ends in watched.items()
            if display_id not in live
            for end in ends
        ]

    def _end(self, watcher: End, reason: str) -> None:
        watcher(reason)
