"""OpenTelemetry tracing of the API, off unless the standard OTEL_* variables ask for it.

On when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, or
`OTEL_TRACES_EXPORTER=otlp`; `OTEL_SDK_DISABLED=true` always wins. Everything else (service
name, resource attributes, sampler, batch delays, headers) is read by the SDK from its own
OTEL_* variables. Spans: each request (FastAPI), each SQL statement (SQLAlchemy), each Redis
command and each outgoing HTTP call (httpx: Razorpay, SMS, FCM), in one trace per request,
which the jobs it enqueues continue in the Celery workers.
The request id our logs carry is set on the request's span as `canteen.request_id`
(by canteen.observability.metrics.MetricsMiddleware, which sees the response header).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("canteen.tracing")
_provider_installed = False


def tracing_requested() -> bool:
    env = os.environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or exporter == "otlp"
    )


def _install_provider(default_service: str) -> None:
    """The process's tracer provider and the library instrumentations (once a process)."""
    global _provider_installed
    if _provider_installed:
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
    resource = Resource.create(
        {"service.name": os.environ.get("OTEL_SERVICE_NAME", default_service)}
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    RedisInstrumentor().instrument()
    # Publishing a job carries the trace in the message headers; the worker continues it.
    CeleryInstrumentor().instrument()  # type: ignore[no-untyped-call]
    _provider_installed = True


def install_tracing(app: FastAPI, engine: AsyncEngine) -> bool:
    """Instrument this app and engine when tracing is requested; returns whether it is."""
    if not tracing_requested():
        return False
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    _install_provider("canteen-api")
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="healthz,metrics", server_request_hook=_redact_query
    )
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine)
    log.info("OpenTelemetry tracing on (OTLP)")
    return True


def install_worker_tracing() -> bool:
    """In a Celery worker: trace each job (continuing the trace of the request that
    enqueued it) and its SQL, Redis and HTTP calls. The provider is made in each pool
    process after the fork, as the SDK's exporter thread does not survive one."""
    if not tracing_requested():
        return False
    from celery.signals import worker_process_init

    def init(**_: Any) -> None:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        _install_provider("canteen-worker")
        SQLAlchemyInstrumentor().instrument()  # engines created from now on

    worker_process_init.connect(init, weak=False)
    return True


def _redact_query(span: Any, scope: dict[str, Any]) -> None:
    """Access tokens travel in `?token=` on the order socket and the streams: no query
    string leaves the process in a span (old and new semantic-convention names)."""
    if span is None or not span.is_recording() or not scope.get("query_string"):
        return
    path = scope.get("path", "")
    server = scope.get("server") or ("", None)
    host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
    span.set_attribute("http.target", path)
    span.set_attribute("http.url", f"{scope.get('scheme', 'http')}://{host}{path}")
    span.set_attribute("url.query", "REDACTED")
