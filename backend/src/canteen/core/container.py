"""The process's resources, held once per process (API process and Celery worker).

A plain holder: `canteen.bootstrap.build_container` fills it from the settings with the
domains' implementations, typed here by the Protocols in `canteen.core.ports`, so `core`
names no domain. Providers that not every process needs (SMS, push, the payment gateway,
file storage, the public menu cache) are built on first use by the factories bootstrap
gives it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from canteen.core.clock import Clock
from canteen.core.jobs import PERIODIC, InProcessRunner, JobRunner
from canteen.core.kv import KeyValueStore
from canteen.core.ports import (
    CatalogueSource,
    EventBus,
    FileStore,
    Gateway,
    OutboxDispatcher,
    PublicMenu,
    PushSender,
    RealtimeHub,
    SmsSender,
)
from canteen.core.ratelimit import RateLimiter
from canteen.core.security import TokenCodec
from canteen.settings import Settings


@dataclass(frozen=True)
class Factories:
    """How to build each lazily made provider (given by the composition root)."""

    sms: Callable[[Container], SmsSender]
    push: Callable[[Container], PushSender]
    gateway: Callable[[Container], Gateway]
    storage: Callable[[Container], FileStore]
    menu_cache: Callable[[Container], PublicMenu]


@dataclass
class Container:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    kv: KeyValueStore
    redis: Redis | None
    tokens: TokenCodec
    ratelimiter: RateLimiter
    hub: RealtimeHub
    bus: EventBus
    catalogue: CatalogueSource
    factories: Factories
    jobs: JobRunner = field(init=False)
    dispatcher: OutboxDispatcher = field(init=False)
    _sms: SmsSender | None = None
    _gateway: Gateway | None = None
    _periodic: asyncio.Task[None] | None = None
    _push: PushSender | None = None
    _storage: FileStore | None = None
    _menu_cache: PublicMenu | None = None

    @property
    def sms(self) -> SmsSender:
        if self._sms is None:
            self._sms = self.factories.sms(self)
        return self._sms

    @property
    def push(self) -> PushSender:
        if self._push is None:
            self._push = self.factories.push(self)
        return self._push

    @property
    def storage(self) -> FileStore:
        if self._storage is None:
            self._storage = self.factories.storage(self)
        return self._storage

    @property
    def menu_cache(self) -> PublicMenu:
        """This process's cache of the public menu; told of every menu change in any
        process (canteen.menu.invalidation), so it is never served stale."""
        if self._menu_cache is None:
            self._menu_cache = self.factories.menu_cache(self)
        return self._menu_cache

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            self._gateway = self.factories.gateway(self)
        return self._gateway

    async def start(self) -> None:
        """Background work of an API process: the bus subscription, the dispatcher and,
        when jobs run in-process, the periodic sweeps that Celery beat runs otherwise."""
        await self.bus.start()
        await self.dispatcher.start()
        if isinstance(self.jobs, InProcessRunner) and self._periodic is None:
            self._periodic = asyncio.create_task(self._run_periodic(), name="periodic-jobs")

    async def _run_periodic(self) -> None:
        loop = asyncio.get_running_loop()
        due = {name: loop.time() + every for name, every in PERIODIC.items()}
        while True:
            await asyncio.sleep(1)
            for name, every in PERIODIC.items():
                if loop.time() >= due[name]:
                    due[name] = loop.time() + every
                    await self.jobs.enqueue(name)

    async def close(self) -> None:
        if self._periodic is not None:
            self._periodic.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._periodic
            self._periodic = None
        if self._menu_cache is not None:
            await self._menu_cache.close()
        await self.dispatcher.stop()
        await self.bus.stop()
        await self.jobs.drain()
        await self.kv.close()
        await self.engine.dispose()
