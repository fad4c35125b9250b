"""Prometheus metrics for each API process, at `/metrics` (docs/operations.md).

- HTTP: a latency histogram and a request counter per route *template*
  (`/api/v1/orders/{order_id}`, never the raw path), method and status class, measured by
  a pure ASGI middleware (no BaseHTTPMiddleware: it would buffer every response), which
  also counts open WebSockets and server-sent-event streams.
- Business: orders placed, cancelled and completed, payment outcomes and refunds are
  derived from the event log as it is committed (a SQLAlchemy session hook sees each
  `Event` row flushed and counts it once its transaction commits), so no domain code
  carries metrics calls and a rolled-back change counts nothing.
- The start-up objects frozen out of the garbage collector's walk (`canteen serve`).
- At scrape time: outbox lag (age of the oldest undelivered event), Celery queue depth
  and database connections in use.

The endpoint needs `Authorization: Bearer <CANTEEN_METRICS_TOKEN>`; without a token set
it is off in production (404) and open elsewhere. Scrape each process directly: through
the load balancer a scrape reaches a random process (deploy/nginx answers 404 there).

With `PROMETHEUS_MULTIPROC_DIR` set (required with `canteen serve --workers N`), every
worker writes its values to files there and a scrape of any worker adds them up.
"""

from __future__ import annotations

import hmac
import os
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession
from starlette.routing import Match

from canteen.events.models import Event
from canteen.events.service import INSERTED_EVENTS, EventFacts
from canteen.events.types import EventType

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from canteen.core.container import Container
    from canteen.settings import Settings

# Latency buckets around the 500 ms p99 objective (deploy/monitoring alerts).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)

HTTP_DURATION = Histogram(
    "canteen_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["method", "route", "status"],
    buckets=_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "canteen_http_requests",
    "HTTP requests answered, by route template and status code",
    ["method", "route", "status"],
)
OPEN_WEBSOCKETS = Gauge(
    "canteen_open_websockets", "Accepted WebSockets open now", multiprocess_mode="livesum"
)
OPEN_SSE = Gauge(
    "canteen_open_sse_streams",
    "Server-sent-event streams open now, by route",
    ["route"],
    multiprocess_mode="livesum",
)
ORDERS_PLACED = Counter("canteen_orders_placed", "Orders placed", ["payment_method"])
ORDERS_COMPLETED = Counter("canteen_orders_completed", "Orders completed (handed over)")
ORDERS_CANCELLED = Counter("canteen_orders_cancelled", "Orders cancelled, by who", ["by"])
PAYMENTS = Counter(
    "canteen_payments",
    "Online payment outcomes: captured, failed, captured_after_close (refunded)",
    ["outcome"],
)
REFUNDS = Counter("canteen_refunds", "Refund status changes", ["status"])
OUTBOX_LAG = Gauge(
    "canteen_outbox_lag_seconds",
    "Age of the oldest event not yet delivered by the outbox (0 when none)",
    multiprocess_mode="mostrecent",
)
OUTBOX_PENDING = Gauge(
    "canteen_outbox_pending_events",
    "Events not yet delivered by the outbox",
    multiprocess_mode="mostrecent",
)
JOB_QUEUE_DEPTH = Gauge(
    "canteen_job_queue_depth",
    "Celery jobs waiting in the broker queue",
    multiprocess_mode="mostrecent",
)
DB_POOL_IN_USE = Gauge(
    "canteen_db_pool_connections_in_use",
    "Database connections checked out of this process's pool",
    multiprocess_mode="livesum",
)

# What canteen.core.heap froze out of the garbage collector's walk when the serving process
# started (0: not frozen, as in a test's app).
GC_FROZEN = Gauge(
    "canteen_gc_frozen_objects",
    "Objects frozen out of the garbage collector's walk when this process started",
    multiprocess_mode="max",
)
SCRAPE_ERRORS = Counter(
    "canteen_metrics_scrape_errors", "Scrape-time readings that failed", ["reading"]
)


# ---- business counters from the event log -------------------------------------------


def _count(event: Event | EventFacts) -> None:
    data = event.data or {}
    if event.type == EventType.order_created:
        ORDERS_PLACED.labels(str(data.get("payment_method") or "unknown")).inc()
    elif event.type == EventType.order_status_changed:
        if event.status == "completed":
            ORDERS_COMPLETED.inc()
        elif event.status == "cancelled":
            ORDERS_CANCELLED.labels(str(data.get("actor") or "unknown")).inc()
        elif event.status == "confirmed" and event.payment_status == "captured":
            PAYMENTS.labels("captured").inc()  # a verified payment confirms a UPI order
    elif event.type == EventType.order_payment_updated:
        refund = data.get("refund")
        if isinstance(refund, dict):
            REFUNDS.labels(str(refund.get("status") or "unknown")).inc()
        elif data.get("refund_needed"):
            PAYMENTS.labels("captured_after_close").inc()
        elif event.payment_status == "failed":
            PAYMENTS.labels("failed").inc()


def _after_flush(session: OrmSession, _context: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, Event)]
    if new:
        session.info.setdefault("metrics_events", []).extend(new)


def _after_commit(session: OrmSession) -> None:
    for ev in session.info.pop("metrics_events", ()):
        _count(ev)
    # Events written without an ORM object (events.service.insert_event_row: the
    # placement, an order's change).
    for facts in session.info.pop(INSERTED_EVENTS, ()):
        _count(facts)


def _after_rollback(session: OrmSession) -> None:
    session.info.pop("metrics_events", None)
    session.info.pop(INSERTED_EVENTS, None)


_installed = False


def install_event_counters() -> None:
    """Count committed events in this process (API, worker or CLI); idempotent."""
    global _installed
    if _installed:
        return
    # `session.new` still lists objects during after_flush; the rows count only once
    # their transaction commits.
    sa_event.listen(OrmSession, "after_flush", _after_flush)
    sa_event.listen(OrmSession, "after_commit", _after_commit)
    sa_event.listen(OrmSession, "after_rollback", _after_rollback)
    _installed = True


# ---- the middleware --------------------------------------------------------------------


class MetricsMiddleware:
    """Times every HTTP request by route template, counts open sockets and streams, and
    answers `GET /metrics` itself (before any other middleware or the router)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        container: Container,
        path: str = "/metrics",
        tracing: bool = False,
    ) -> None:
        self.app = app
        self.container = container
        self.path = path
        self.token = settings.metrics_token
        self.enabled = bool(self.token) or not settings.is_production
        self.broker_url = (
            settings.resolved_broker_url if settings.resolved_job_runner == "celery" else None
        )
        self._broker: Any = None
        # OTEL_* switched tracing on (canteen.observability.tracing): tag the spans.
        self.tracing = tracing
        self._routes: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path:
            await self._serve_metrics(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        status = 500
        stream_route: str | None = None

        async def send_wrapper(message: Message) -> None:
            nonlocal status, stream_route
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = b""
                for name, value in message.get("headers") or ():
                    if name == b"content-type":
                        content_type = value
                    elif name == b"x-request-id" and self.tracing:
                        _tag_span(value)
                if content_type.startswith(b"text/event-stream"):
                    stream_route = self._route(scope)
                    OPEN_SSE.labels(stream_route).inc()
                    # A stream's duration is its lifetime, not its latency: time to
                    # first byte is what the histogram gets.
                    self._observe(scope, status, time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if stream_route is not None:
                OPEN_SSE.labels(stream_route).dec()
            else:
                self._observe(scope, status, time.perf_counter() - start)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = False

        async def send_wrapper(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                OPEN_WEBSOCKETS.inc()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if accepted:
                OPEN_WEBSOCKETS.dec()

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        key = (scope.get("method", "GET"), self._route(scope), status)
        children = self._children.get(key)
        if children is None:
            # `labels()` takes a lock and builds tuples; the children are cached instead
            # (bounded by routes x methods x statuses, as the label set itself is).
            method, route, _ = key
            children = (
                HTTP_DURATION.labels(method, route, f"{status // 100}xx"),
                HTTP_REQUESTS.labels(method, route, str(status)),
            )
            self._children[key] = children
        children[0].observe(seconds)
        children[1].inc()

    def _route(self, scope: Scope) -> str:
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        if template:
            return str(template)
        # No route in the scope: answered before the router (the menu fast path, a 404,
        # a mount). Match the app's routes once per distinct path, in a bounded cache,
        # so a scan of random URLs cannot grow the label set.
        key = (scope.get("method", "GET"), scope["path"])
        cached = self._routes.get(key)
        if cached is None:
            cached = "unmatched"
            router = scope.get("app")
            for candidate in getattr(getattr(router, "router", None), "routes", ()):
                match, _ = candidate.matches({**scope, "type": "http"})
                if match != Match.NONE:
                    path = getattr(candidate, "path_format", None) or getattr(candidate, "path", "")
                    cached = str(path) or "unmatched"
                    break
            self._routes[key] = cached
            if len(self._routes) > 2048:
                self._routes.popitem(last=False)
        return cached

    # -- /metrics -------------------------------------------------------------------

    def _authorised(self, scope: Scope) -> bool:
        if not self.token:
            return True
        headers = dict(scope.get("headers") or ())
        scheme, _, given = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.encode(), self.token.encode()
        )

    async def _serve_metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled:
            await _plain(send, 404, b"Not Found")
            return
        if not self._authorised(scope):
            await _plain(send, 401, b"Unauthorized", [(b"www-authenticate", b"Bearer")])
            return
        await self._read_gauges()
        body = generate_latest(_registry())
        await _plain(send, 200, body, content_type=CONTENT_TYPE_LATEST.encode())

    async def _read_gauges(self) -> None:
        c = self.container
        try:
            async with c.sessionmaker() as session:
                row = (
                    await session.execute(
                        select(func.min(Event.created_at), func.count()).where(
                            Event.dispatched_at.is_(None)
                        )
                    )
                ).one()
            oldest, pending = row
            lag = 0.0
            if oldest is not None:
                lag = max(0.0, (c.clock.now() - oldest).total_seconds())
            OUTBOX_LAG.set(lag)
            OUTBOX_PENDING.set(pending)
        except Exception:
            SCRAPE_ERRORS.labels("outbox").inc()
        pool = c.engine.sync_engine.pool
        checked_out = getattr(pool, "checkedout", None)
        DB_POOL_IN_USE.set(checked_out() if callable(checked_out) else 0)
        if self.broker_url:
            try:
                if self._broker is None:
                    from redis.asyncio import Redis

                    self._broker = Redis.from_url(
                        self.broker_url, socket_timeout=2, socket_connect_timeout=2
                    )
                JOB_QUEUE_DEPTH.set(await self._broker.llen("celery"))
            except Exception:
                SCRAPE_ERRORS.labels("job_queue").inc()


def _tag_span(request_id: bytes | None) -> None:
    """Put the request id (the one in our logs and the X-Request-ID header) on the
    request's trace span, so a log line leads to its trace and back."""
    if not request_id:
        return
    from opentelemetry import trace

    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("canteen.request_id", request_id.decode("latin-1"))


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


async def _plain(
    send: Send,
    status: int,
    body: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
    content_type: bytes = b"text/plain; charset=utf-8",
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
