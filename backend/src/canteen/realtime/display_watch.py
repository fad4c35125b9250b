"""Ending a display's open stream once its token is revoked (issue 17, part 2).

The same way as accounts (realtime.accounts, whose reasoning holds here): one task per
process re-reads the watched display tokens every `CHECK_SECONDS` while any display
stream is open, so a revoke made on any process, by the API or in SQL, ends the
stream within about two seconds. A handful of TVs cost one small query per round.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from canteen.displays.models import DisplayToken

log = logging.getLogger("canteen.realtime")

CHECK_SECONDS = 2.0
REVOKED = "revoked"  # revoked or deleted

End = Callable[[str], None]


class DisplayWatch:
    """Calls a stream's `end("revoked")` once its display token is revoked or gone."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], interval: float = CHECK_SECONDS
    ) -> None:
        self._sessionmaker = sessionmaker
        self.interval = interval
        self._watched: dict[uuid.UUID, set[End]] = {}
        self._task: asyncio.Task[None] | None = None
        self._sleeping = False
        self.rounds = 0

    def watcher(self, display_id: uuid.UUID) -> Callable[[End], AbstractContextManager[None]]:
        """`watch` for realtime.kitchen_stream.stream_log, bound to one display."""
        return lambda end: self.watch(display_id, end)

    @contextmanager
    def watch(self, display_id: uuid.UUID, end: End) -> Iterator[None]:
        self._watched.setdefault(display_id, set()).add(end)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="realtime-display-watch"
            )
        try:
            yield
        finally:
            self._forget(display_id, end)
            if not self._watched and self._task is not None and self._sleeping:
                self._task.cancel()  # only while asleep, never inside a database call
                self._task = None

    def _forget(self, display_id: uuid.UUID, end: End) -> None:
        ends = self._watched.get(display_id)
        if ends is not None:
            ends.discard(end)
            if not ends:
                del self._watched[display_id]

    async def _run(self) -> None:
        while self._watched:
            self._sleeping = True
            try:
                await asyncio.sleep(self.interval)
            finally:
                self._sleeping = False
            try:
                await self.check()
            except Exception:  # the database is away: try again at the next round
                log.warning("could not re-check the tokens of open displays", exc_info=True)

    async def check(self) -> None:
        self.rounds += 1
        ids = list(self._watched)
        if not ids:
            return
        async with self._sessionmaker() as session:
            live = set(
                await session.scalars(
                    select(DisplayToken.id).where(
                        DisplayToken.id.in_(ids), DisplayToken.revoked_at.is_(None)
                    )
                )
            )
        for display_id in ids:
            if display_id in live:
                continue
            for end in list(self._watched.get(display_id, ())):
                self._forget(display_id, end)
                try:
                    end(REVOKED)
                except Exception:  # one broken stream must not spare the others
                    log.exception("could not end the stream of a revoked display")

    @property
    def watched(self) -> int:
        return sum(len(e) for e in self._watched.values())
