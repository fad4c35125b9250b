"""The periodic re-check behind ending open connections when the database says so.

A realtime connection is authorised once, when it opens; an account deactivated or a
display token revoked afterwards must end it within seconds, on whichever process holds
it. The database is the one place every such change lands (the admin API, the CLI, an
operator's SQL), so each process re-reads what its open connections depend on every
`interval` seconds rather than waiting for a signal that a dead process or an absent
Redis would lose. One task per watch and process, running only while something is
watched; one query per `CHUNK` distinct keys per round, nothing per connection.
Subclasses say what is read and which watchers end with which reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger("canteen.realtime")

CHECK_SECONDS = 2.0
CHUNK = 500

K = TypeVar("K", bound=Hashable)  # what is re-read: an account's id, a display token's id
W = TypeVar("W", bound=Hashable)  # one connection's watcher


class Recheck(Generic[K, W]):
    task_name = "realtime-recheck"
    what = "open connections"  # for the log line when a round fails

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], interval: float = CHECK_SECONDS
    ) -> None:
        self._sessionmaker = sessionmaker
        self.interval = interval
        self._watched: dict[K, set[W]] = {}
        self._task: asyncio.Task[None] | None = None
        self._sleeping = False
        self.rounds = 0  # checks made (for tests and diagnostics)

    async def _endings(
        self, session: AsyncSession, watched: dict[K, set[W]]
    ) -> Iterable[tuple[K, W, str]]:
        """The watchers of these keys to end now, each with its reason."""
        raise NotImplementedError

    def _end(self, watcher: W, reason: str) -> None:
        """End one connection; called synchronously, must not block."""
        raise NotImplementedError

    @contextmanager
    def _watching(self, key: K, watcher: W) -> Iterator[None]:
        self._watched.setdefault(key, set()).add(watcher)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.task_name)
        try:
            yield
        finally:
            self._forget(key, watcher)
            if not self._watched and self._task is not None and self._sleeping:
                # Nothing left to watch: do not leave the task behind (it is only
                # cancelled while asleep, never inside a database call).
                self._task.cancel()
                self._task = None

    def _forget(self, key: K, watcher: W) -> None:
        watchers = self._watched.get(key)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watched[key]

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
                log.warning("could not re-check the %s", self.what, exc_info=True)

    async def check(self) -> None:
        """One round: end every watcher the database no longer allows."""
        self.rounds += 1
        keys = list(self._watched)
        for start in range(0, len(keys), CHUNK):
            chunk = {k: set(self._watched.get(k, ())) for k in keys[start : start + CHUNK]}
            async with self._sessionmaker() as session:
                endings = list(await self._endings(session, chunk))
            for key, watcher, reason in endings:
                self._forget(key, watcher)
                try:
                    self._end(watcher, reason)
                except Exception:  # one broken connection must not spare the others
                    log.exception("could not end a connection of the %s", self.what)

    @property
    def watched(self) -> int:
        return sum(len(w) for w in self._watched.values())
