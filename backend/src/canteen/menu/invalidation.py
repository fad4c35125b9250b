"""Telling every process's menu cache that the menu changed.

The database's `canteen_config.menu_version` is the truth; reading it on every request
would cost more than the cached answer itself, so processes are told instead:

- `bump_menu_version` flags the session; when that transaction commits (SQLAlchemy
  `after_commit`, whoever opened the session), every menu cache of this process on the
  same database is invalidated at once, before the writer's response leaves, and
- a message goes out on Redis (`CHANNEL`, when Redis is configured), on which every API
  process's cache listens; a cache that is not subscribed (yet, or after a lost
  connection) checks the database on every request instead of trusting itself.

An invalidated cache re-reads the version (one shared query) before its next answer. As
a last resort against anything unannounced (a CLI run, a lost message), a cache also
re-reads it when its last check is older than `settings.menu_cache_max_age`.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, Protocol

from redis.asyncio import Redis
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger("canteen.menu")

CHANNEL = "canteen:menu:changed"
_FLAG = "canteen.menu_changed"


class Invalidatable(Protocol):
    def invalidate(self) -> None: ...


_caches: dict[str, weakref.WeakSet[Any]] = {}
_publishers: dict[str, weakref.WeakSet[Any]] = {}
_pending: set[asyncio.Task[Any]] = set()


def database_key(engine: AsyncEngine | Engine) -> str:
    """Which database a cache or a session serves (the URL without its password)."""
    return engine.url.render_as_string(hide_password=True)


def register_cache(key: str, cache: Invalidatable) -> None:
    _caches.setdefault(key, weakref.WeakSet()).add(cache)


def register_publisher(key: str, redis: Redis) -> None:
    """Processes with Redis announce their commits (API processes and Celery workers)."""
    _publishers.setdefault(key, weakref.WeakSet()).add(redis)


def flag_session(session: AsyncSession) -> None:
    """Called in the transaction that bumps the menu version."""
    session.info[_FLAG] = True


def invalidate_local(key: str) -> None:
    for cache in list(_caches.get(key, ())):
        cache.invalidate()


def _publish(key: str) -> None:
    publishers = list(_publishers.get(key, ()))
    if not publishers:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return  # no event loop (a synchronous script): the max-age check covers it

    async def send() -> None:
        error: Exception | None = None
        # Normally one client per process; tests build several (some already closed).
        for redis in publishers:
            try:
                await redis.publish(CHANNEL, key)
                return
            except Exception as exc:
                error = exc  # try the next client
        log.warning("could not announce a menu change on Redis: %s", error)

    task = loop.create_task(send())
    _pending.add(task)
    task.add_done_callback(_pending.discard)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if not session.info.pop(_FLAG, False):
        return
    bind = session.get_bind()
    key = database_key(bind if isinstance(bind, Engine) else bind.engine)
    invalidate_local(key)
    _publish(key)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_FLAG, None)
