"""The process's resources, built once from settings (API process and Celery worker)."""

from __future__ import annotations

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
from canteen.settings import Settings

if TYPE_CHECKING:
    from canteen.sms.base import SmsProvider


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
    jobs: JobRunner = field(init=False)
    _sms: SmsProvider | None = None

    @property
    def sms(self) -> SmsProvider:
        if self._sms is None:
            from canteen.sms.factory import build_sms_provider

            self._sms = build_sms_provider(self.settings, self)
        return self._sms

    async def close(self) -> None:
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
        redis = Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=10)
        kv = RedisStore(redis)
    else:
        kv = MemoryStore()
    container = Container(
        settings=settings,
        clock=clock,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
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
        container.jobs = CeleryRunner(broker)
    return container
