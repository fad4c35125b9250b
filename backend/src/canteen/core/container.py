"""The process's resources, built once from settings (API process and Celery worker)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from canteen.core.clock import Clock
from canteen.core.db import make_engine, make_sessionmaker
from canteen.core.jobs import CeleryRunner, InProcessRunner, JobRunner, load_jobs
from canteen.core.kv import KeyValueStore, MemoryStore, RedisStore
from canteen.core.ratelimit import RateLimiter
from canteen.core.security import TokenCodec
from canteen.events.dispatcher import Dispatcher
from canteen.menu.catalogue import CatalogueCache
from canteen.realtime.bus import EventBus, InProcessBus, RedisBus
from canteen.realtime.hub import Hub
from canteen.settings import Settings

if TYPE_CHECKING:
    from canteen.menu.cache import MenuCache
    from canteen.notifications.push import PushProvider
    from canteen.payments.gateway import PaymentGateway
    from canteen.sms.base import SmsProvider
    from canteen.storage.base import Storage


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
    hub: Hub
    bus: EventBus
    jobs: JobRunner = field(init=False)
    dispatcher: Dispatcher = field(init=False)
    _sms: SmsProvider | None = None
    _gateway: PaymentGateway | None = None
    _periodic: asyncio.Task[None] | None = None
    _push: PushProvider | None = None
    _storage: Storage | None = None
    _menu_cache: MenuCache | None = None
    catalogue: CatalogueCache = field(default_factory=CatalogueCache)

    @property
    def sms(self) -> SmsProvider:
        if self._sms is None:
            from canteen.sms.factory import build_sms_provider

            self._sms = build_sms_provider(self.settings, self)
        return self._sms

    @property
    def push(self) -> PushProvider:
        if self._push is None:
            from canteen.notifications.factory import build_push_provider

            self._push = build_push_provider(self.settings, self)
        return self._push

    @property
    def storage(self) -> Storage:
        if self._storage is None:
            from canteen.storage.factory import build_storage

            s = self.settings
            self._storage = build_storage(
                s.storage,
                data_dir=s.data_dir,
                media_base_url=s.media_base_url,
                s3_bucket=s.s3_bucket,
                s3_region=s.s3_region,
                s3_endpoint_url=s.s3_endpoint_url,
                s3_public_base_url=s.s3_public_base_url,
                s3_access_key_id=s.s3_access_key_id,
                s3_secret_access_key=s.s3_secret_access_key,
            )
        return self._storage

    @property
    def menu_cache(self) -> MenuCache:
        """This process's cache of the public menu; told of every menu change in any
        process (canteen.menu.invalidation), so it is never served stale."""
        if self._menu_cache is None:
            from canteen.menu.cache import MenuCache

            self._menu_cache = MenuCache(
                self.engine,
                self.sessionmaker,
                self.clock,
                self.settings.timezone,
                redis=self.redis,
                max_age=self.settings.menu_cache_max_age,
            )
        return self._menu_cache

    @property
    def gateway(self) -> PaymentGateway:
        if self._gateway is None:
            from canteen.payments.factory import build_gateway

            self._gateway = build_gateway(self.settings)
        return self._gateway

    async def start(self) -> None:
        """Background work of an API process: the bus subscription, the dispatcher and,
        when jobs run in-process, the periodic sweeps that Celery beat runs otherwise."""
        await self.bus.start()
        await self.dispatcher.start()
        if isinstance(self.jobs, InProcessRunner) and self._periodic is None:
            self._periodic = asyncio.create_task(self._run_periodic(), name="periodic-jobs")

    async def _run_periodic(self) -> None:
        from canteen.core.jobs import PERIODIC

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


def build_container(
    settings: Settings, *, clock: Clock | None = None, pooled: bool = True, for_worker: bool = False
) -> Container:
    load_jobs()
    clock = clock or Clock()
    engine = make_engine(settings.resolved_database_url, pool=pooled)
    redis: Redis | None = None
    kv: KeyValueStore
    if settings.redis_url:
        # Short timeouts: every Redis call is a small key-value operation, and a request
        # must answer 503 quickly while Redis is unreachable rather than hang (issue 13).
        redis = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
        kv = RedisStore(redis)
        from canteen.menu.invalidation import database_key, register_publisher

        # Menu changes committed in this process are announced to every API process.
        register_publisher(database_key(engine), redis)
    else:
        kv = MemoryStore()
    sessionmaker = make_sessionmaker(engine)
    hub = Hub(sessionmaker)  # reads the event log to catch up after a lost subscription
    bus: EventBus = InProcessBus(hub)
    if settings.redis_url:
        # The subscription idles for as long as nothing happens: no read timeout on it.
        subscriber = Redis.from_url(
            settings.redis_url, socket_connect_timeout=2, health_check_interval=30
        )
        bus = RedisBus(subscriber, hub)
    container = Container(
        settings=settings,
        hub=hub,
        bus=bus,
        clock=clock,
        engine=engine,
        sessionmaker=sessionmaker,
        kv=kv,
        redis=redis,
        tokens=TokenCodec(settings.secret_key, settings.jwt_issuer, settings.jwt_audience),
        ratelimiter=RateLimiter(kv, clock),
    )
    # A worker runs the job bodies itself; only API processes hand jobs to Celery.
    if for_worker or settings.resolved_job_runner == "inprocess":
        container.jobs = InProcessRunner(container)
    else:
        broker = settings.resolved_broker_url
        assert broker, "the Celery job runner needs CANTEEN_REDIS_URL"
        container.jobs = CeleryRunner(
            broker, visibility_timeout=settings.job_visibility_timeout_seconds
        )
    container.dispatcher = Dispatcher(container)
    return container
