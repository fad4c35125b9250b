"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import text

from canteen import __version__
from canteen.auth.endpoints import router as auth_router
from canteen.bootstrap import build_container
from canteen.core import heap
from canteen.core.clock import Clock
from canteen.core.container import Container
from canteen.core.errors import error_response, install_error_handlers
from canteen.core.logging import configure_logging
from canteen.core.middleware import (
    ApiCorsMiddleware,
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from canteen.core.openapi import install_contract
from canteen.core.responses import ORJSONResponse
from canteen.core.routing import look_up_static_routes_first
from canteen.dev.endpoints import router as dev_router
from canteen.displays.endpoints import router as displays_router
from canteen.kitchen.endpoints import router as kitchen_router
from canteen.menu.admin_endpoints import router as menu_admin_router
from canteen.menu.endpoints import config_router
from canteen.menu.endpoints import router as menu_router
from canteen.menu.fastpath import MenuFastPath
from canteen.menu.images import MAX_BYTES as MAX_IMAGE_BYTES
from canteen.menu.kitchen_endpoints import router as menu_kitchen_router
from canteen.menu.media import mount_local_media
from canteen.menu.uploads import ENVELOPE_BYTES
from canteen.observability.errors import install_sentry
from canteen.observability.metrics import GC_FROZEN, MetricsMiddleware, install_event_counters
from canteen.observability.tracing import install_tracing
from canteen.orders.endpoints import admin_router as kitchen_orders_router
from canteen.orders.endpoints import delivery_router
from canteen.orders.endpoints import router as orders_router
from canteen.orders.recall_endpoints import router as recall_router
from canteen.payments.dev_sandbox import sandbox_app, wants_sandbox
from canteen.payments.endpoints import router as payments_router
from canteen.payments.factory import SANDBOX_PATH
from canteen.portal import mount_portal
from canteen.printing.endpoints import router as printing_router
from canteen.realtime.display_stream import router as display_stream_router
from canteen.realtime.endpoints import router as realtime_router
from canteen.realtime.menu_stream import router as menu_stream_router
from canteen.reports.endpoints import router as reports_router
from canteen.settings import Settings, check_production, get_settings
from canteen.stations.endpoints import router as stations_router
from canteen.users.endpoints import router as users_router

API_PREFIX = "/api/v1"
# Request body limits by route (canteen.core.middleware.BodySizeLimitMiddleware); every
# other route gets CANTEEN_MAX_BODY_BYTES. The image upload's own reader refuses a file
# over 5 MB after authentication with a field-level 400 the portal shows by the field;
# the edge refuses anything over twice that (413) before a byte of it is read.
UPLOAD_BODY_LIMIT = 2 * (MAX_IMAGE_BYTES + ENVELOPE_BYTES)
# Razorpay's events are a few kilobytes; this leaves room for large notes fields.
WEBHOOK_BODY_LIMIT = 256 * 1024


def _operation_id(route: APIRoute) -> str:
    # Stable ids so generated clients (the portal's types) keep their names.
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    container: Container | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    check_production(settings)
    configure_logging(fmt=settings.resolved_log_format)
    container = container or build_container(settings, clock=clock)
    install_sentry(settings, "api")  # off unless CANTEEN_SENTRY_DSN is set
    app = _new_app(settings, container)
    install_error_handlers(app)
    install_contract(app)  # before the routers: it gives every route the NUL check
    _add_middleware(app, settings, container)
    _include_routers(app, settings)
    _mount_apps(app, settings)
    _add_health_checks(app, container)
    look_up_static_routes_first(app.router)  # last: it sees every route
    return app


def serve_app() -> FastAPI:
    """The app `canteen serve` runs in each of its worker processes: `create_app`, with
    the start-up heap frozen out of the garbage collector's way (canteen.core.heap)."""
    app = create_app()
    GC_FROZEN.set(heap.freeze_startup_heap())
    return app


def _new_app(settings: Settings, container: Container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await container.start()
        yield
        await container.close()

    app = FastAPI(
        title="Canteen API",
        version=__version__,
        description="Campus food ordering: menu, orders, payments, live tracking.",
        default_response_class=ORJSONResponse,
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
        # Off in production by default (CANTEEN_API_DOCS): the schema is a map for attackers.
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url="/redoc" if settings.docs_enabled else None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.container = container
    app.state.settings = settings
    return app


def _add_middleware(app: FastAPI, settings: Settings, container: Container) -> None:
    # Each add_middleware wraps the ones added before it: the body limit runs inside the
    # request context (so a 413 is logged with its request id), the headers outermost.
    app.add_middleware(
        BodySizeLimitMiddleware,
        default=settings.max_body_bytes,
        limits=[
            (rf"^{API_PREFIX}/admin/menu/items/[^/]+/image$", UPLOAD_BODY_LIMIT),
            (rf"^{API_PREFIX}/payments/webhooks/", WEBHOOK_BODY_LIMIT),
        ],
    )
    app.add_middleware(RequestContextMiddleware)
    if settings.menu_fast_path:
        # Outermost: cached menu reads skip the per-request log line (canteen.menu.fastpath).
        app.add_middleware(MenuFastPath, cache=lambda: container.menu_cache, prefix=API_PREFIX)
    if settings.cors_origins:
        app.add_middleware(ApiCorsMiddleware, prefix=API_PREFIX, origins=settings.cors_origins)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.is_production)
    # Outermost of all: times every request (menu fast path included) and serves /metrics.
    install_event_counters()
    tracing = install_tracing(app, container.engine)  # off unless OTEL_* ask for it
    app.add_middleware(MetricsMiddleware, settings=settings, container=container, tracing=tracing)


def _include_routers(app: FastAPI, settings: Settings) -> None:
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(auth_router)
    api.include_router(users_router)
    api.include_router(menu_router)
    api.include_router(config_router)
    api.include_router(menu_admin_router)
    api.include_router(menu_kitchen_router)
    # Before the kitchen orders router: /admin/orders/stream must not match /{order_id}.
    api.include_router(realtime_router)
    api.include_router(menu_stream_router)
    api.include_router(orders_router)
    api.include_router(payments_router)
    api.include_router(kitchen_orders_router)
    api.include_router(recall_router)
    api.include_router(stations_router)
    api.include_router(kitchen_router)
    api.include_router(delivery_router)
    api.include_router(displays_router)
    api.include_router(display_stream_router)
    api.include_router(printing_router)
    api.include_router(reports_router)
    if not settings.is_production:
        api.include_router(dev_router)
    app.include_router(api)


def _mount_apps(app: FastAPI, settings: Settings) -> None:
    """The sandbox gateway, local media and the kitchen portal: mounted beside the API."""
    if wants_sandbox(settings):
        # Embedded default: the Razorpay-compatible sandbox (a dev tool) lives in this process.
        webhook_url = f"{settings.public_base_url}{API_PREFIX}/payments/webhooks/razorpay"
        sandbox = sandbox_app(settings, webhook_url)
        if sandbox is not None:
            app.mount(SANDBOX_PATH, sandbox)
    if settings.storage == "local":
        mount_local_media(app, settings)
    mount_portal(app, settings.portal_dist)


def _add_health_checks(app: FastAPI, container: Container) -> None:
    @app.get("/healthz", tags=["health"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"], include_in_schema=False)
    async def readyz() -> ORJSONResponse:
        checks: dict[str, str] = {}
        try:
            async with container.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception:
            checks["database"] = "unreachable"
        if container.redis is not None:
            try:
                await container.redis.ping()
                checks["redis"] = "ok"
            except Exception:
                checks["redis"] = "unreachable"
        else:
            checks["redis"] = "embedded"
        if "unreachable" in checks.values():
            failing = [name for name, state in checks.items() if state == "unreachable"]
            return error_response(
                503,
                "SERVICE_UNAVAILABLE",
                "Not ready: " + ", ".join(failing) + " unreachable",
                [{"check": k, "status": v} for k, v in checks.items()],
            )
        return ORJSONResponse({"data": {"status": "ready", "checks": checks}})
