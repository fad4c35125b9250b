"""Ending a process's realtime connections when their account changes (issue 13, point 4).

A kitchen stream or order socket is authorised once, when it opens. If the account is
then deactivated, deleted or given another role, its open connections must end within
seconds, on whichever API process holds them.

Why a periodic re-check and not an "account changed" signal on the bus: the database is
the one place every such change lands (the admin API, the CLI's `create-admin`, an
operator's SQL), whereas a signal published after commit is lost when Redis is down or
the process dies between the commit and the publish, and every writer would have to
remember to send it. The re-check costs one query per process per `ACCOUNT_CHECK_SECONDS`
for up to `CHUNK` distinct accounts (primary-key lookups), nothing per socket, and works
the same on the embedded default and across any number of processes.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from canteen.users.models import User

log = logging.getLogger("canteen.realtime")

ACCOUNT_CHECK_SECONDS = 2.0
CHUNK = 500

DEACTIVATED = "deactivated"  # deactivated or deleted
ROLE_CHANGED = "role_changed"

Revoke = Callable[[str], None]


class _Watcher:
    __slots__ = ("revoke", "role")

    def __init__(self, role: str, revoke: Revoke) -> None:
        self.role = role
        self.revoke = revoke


class AccountWatch:
    """Calls a connection's `revoke(reason)` once its account is no longer as it was.

    One task per process checks every watched account; it runs only while something is
    watched. `revoke` is called synchronously and must not block.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        interval: float = ACCOUNT_CHECK_SECONDS,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.interval = interval
        self._watched: dict[uuid.UUID, set[_Watcher]] = {}
        self._task: asyncio.Task[None] | None = None
        self._sleeping = False
        self.rounds = 0  # checks made (for tests and diagnostics)

    @contextmanager
    def watch(self, user_id: uuid.UUID, role: str, revoke: Revoke) -> Iterator[None]:
        watcher = _Watcher(str(role), revoke)
        self._watched.setdefault(user_id, set()).add(watcher)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="realtime-account-watch"
            )
        try:
            yield
        finally:
            self._forget(user_id, watcher)
            if not self._watched and self._task is not None and self._sleeping:
                # Nothing left to watch: do not leave the task behind (it is only
                # cancelled while asleep, never inside a database call).
                self._task.cancel()
                self._task = None

    def _forget(self, user_id: uuid.UUID, watcher: _Watcher) -> None:
        watchers = self._watched.get(user_id)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watched[user_id]

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
                log.warning("could not re-check the accounts of open streams", exc_info=True)

    async def check(self) -> None:
        """One round: revoke every watcher whose account is gone, inactive or re-roled."""
        self.rounds += 1
        ids = list(self._watched)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            async with self._sessionmaker() as session:
                rows = {
                    row.id: (row.role, row.is_active)
                    for row in await session.execute(
                        select(User.id, User.role, User.is_active).where(User.id.in_(chunk))
                    )
                }
            for user_id in chunk:
                role, active = rows.get(user_id, (None, False))
                for watcher in list(self._watched.get(user_id, ())):
                    if not active:
                        reason = DEACTIVATED
                    elif role != watcher.role:
                        reason = ROLE_CHANGED
                    else:
                        continue
                    self._forget(user_id, watcher)
                    try:
                        watcher.revoke(reason)
                    except Exception:  # one broken connection must not spare the others
                        log.exception("could not end a connection of a changed account")

    @property
    def watched(self) -> int:
        return sum(len(w) for w in self._watched.values())
