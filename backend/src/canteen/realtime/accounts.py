"""Ending a process's realtime connections when their account changes (issue 13, point 4).

A kitchen stream or order socket is authorised once, when it opens. If the account is
then deactivated, deleted or given another role, its open connections must end within
seconds, on whichever API process holds them: the periodic re-check of realtime.recheck
(why a re-check and not a signal on the bus is said there), reading up to `CHUNK`
accounts by primary key per query.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.realtime.recheck import CHECK_SECONDS, CHUNK, Recheck
from canteen.users.models import User

ACCOUNT_CHECK_SECONDS = CHECK_SECONDS
__all__ = ["ACCOUNT_CHECK_SECONDS", "CHUNK", "DEACTIVATED", "ROLE_CHANGED", "AccountWatch"]

DEACTIVATED = "deactivated"  # deactivated or deleted
ROLE_CHANGED = "role_changed"

Revoke = Callable[[str], None]


class _Watcher:
    __slots__ = ("revoke", "role")

    def __init__(self, role: str, revoke: Revoke) -> None:
        self.role = role
        self.revoke = revoke


class AccountWatch(Recheck[uuid.UUID, _Watcher]):
    """Calls a connection's `revoke(reason)` once its account is no longer as it was."""

    task_name = "realtime-account-watch"
    what = "accounts of open streams"

    @contextmanager
    def watch(self, user_id: uuid.UUID, role: str, revoke: Revoke) -> Iterator[None]:
        with self._watching(user_id, _Watcher(str(role), revoke)):
            yield

    async def _endings(
        self, session: AsyncSession, watched: dict[uuid.UUID, set[_Watcher]]
    ) -> Iterable[tuple[uuid.UUID, _Watcher, str]]:
        rows = {
            row.id: (row.role, row.is_active)
            for row in await session.execute(
                select(User.id, User.role, User.is_active).where(User.id.in_(list(watched)))
            )
        }
        endings: list[tuple[uuid.UUID, _Watcher, str]] = []
        for user_id, watchers in watched.items():
            role, active = rows.get(user_id, (None, False))
            for watcher in watchers:
                if not active:
                    endings.append((user_id, watcher, DEACTIVATED))
                elif role != watcher.role:
                    endings.append((user_id, watcher, ROLE_CHANGED))
        return endings

    def _end(self, watcher: _Watcher, reason: str) -> None:
        watcher.revoke(reason)
