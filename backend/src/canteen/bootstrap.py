"""The composition root: builds a process's container and registers the jobs.

Entry points (`canteen.app`, `canteen.cli`, `canteen.worker`) and test harnesses call
`build_container`; nothing below them does. This is the one place that knows which
domain implements what `canteen.core` only names by Protocol (`canteen.core.ports`),
which module of each domain registers its jobs, and which domains react to events.
"""

from __future__ import annotations

from redis.asyncio import Redis

from canteen.core.celery_queue import CeleryRunner
from canteen.core.clock import Clock, shift_process_clock
from canteen.core.container import Container, Factories
from canteen.core.db import make_engine, make_sessionmaker
from canteen.core.jobs import InProcessRunner
from canteen.core.kv import KeyValueStore, MemoryStore, RedisStore
from canteen.core.ports import FileStore, Gateway, PublicMenu, PushSender, SmsSender
from canteen.core.ratelimit import RateLimiter
from canteen.core.security import TokenCodec
from canteen.events.dispatcher import Dispatcher
from canteen.menu.catalogue import CatalogueCache
from canteen.observability.tracing import tracing_requested
from canteen.realtime.bus import EventBus, InProcessBus, RedisBus
from canteen.realtime.hub import Hub
from canteen.settings import Settings


def load_jobs() -> None:
    """Import every module that registers jobs (the worker and the app both need them)."""
    import canteen.menu.tasks
    import canteen.notifications.eta_push
    import canteen.notifications.ready_sms
    import canteen.notifications.reminders
    import canteen.notifications.tasks
    import canteen.orders.tasks
    import canteen.payments.tasks
    import canteen.printing.tasks
    import canteen.reports.tasks
    import canteen.sms.tasks  # noqa: F401


def register_reactions() -> None:
    """Each domain's reactions to events, in the order the dispatcher calls them: the
    refund first, then the push and the ready SMS, then the kitchen ticket on paper
    (registering twice changes nothing)."""
    from canteen.notifications import reactions as notification_reactions
    from canteen.payments import reactions as payment_reactions
    from canteen.printing import reactions as printing_reactions

    payment_reactions.register()
    notification_reactions.register()
    printing_reactions.register()


def _sms(c: Container) -> SmsSender:
    from canteen.sms.factory import build_sms_provider

    return build_sms_provider(c.settings, c)


def _push(c: Container) -> PushSender:
    from canteen.notifications.factory import build_push_provider

    return build_push_provider(c.settings, c)


def _gateway(c: Container) -> Gateway:
    from canteen.payments.factory import build_gateway

    return build_gateway(c.settings)


def _storage(c: Container) -> FileStore:
    from canteen.storage.factory import build_storage

    s = c.settings
    return build_storage(
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


def _menu_cache(c: Container) -> PublicMenu:
    from canteen.menu.cache import MenuCache

    return MenuCache(
        c.engine,
        c.sessionmaker,
        c.clock,
        c.settings.timezone,
        redis=c.redis,
        max_age=c.settings.menu_cache_max_age,
    )


FACTORIES = Factories(
    sms=_sms, push=_push, gateway=_gateway, storage=_storage, menu_cache=_menu_cache
)


def build_container(
    settings: Settings, *, clock: Clock | None = None, pooled: bool = True, for_worker: bool = False
) -> Container:
    import canteen.models  # noqa: F401  (every mapper, so any flush can sort the tables)

    load_jobs()
    register_reactions()
    if settings.clock_offset_seconds:  # a test run's hour (production refuses a shift)
        # Only set, never reset: a production container a test builds keeps the run's time.
        shift_process_clock(settings.clock_offset_seconds)
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
        catalogue=CatalogueCache(),
        factories=FACTORIES,
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
        container.jobs = CeleryRunner(broker, traced=tracing_requested())
    container.dispatcher = Dispatcher(container)
    return container
