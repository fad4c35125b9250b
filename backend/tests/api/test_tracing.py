"""OpenTelemetry tracing (issue 19, point 4): off by default, on with the standard OTEL_*
variables. A real API process exports OTLP/HTTP to a receiver in this test, which decodes
what arrives: a request's span carries our request id, its SQL runs in the same trace, and
no access token from a query string leaves the process."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from live import ApiProcess
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from canteen.observability.tracing import tracing_requested
from conftest import BACKEND


class _Receiver:
    """The OTLP/HTTP traces endpoint (`POST /v1/traces`, protobuf), recording spans."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource_spans in request.resource_spans:
                    service = {
                        a.key: a.value.string_value for a in resource_spans.resource.attributes
                    }.get("service.name")
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            receiver.spans.append(
                                {
                                    "service": service,
                                    "name": span.name,
                                    "trace_id": span.trace_id.hex(),
                                    "scope": scope_spans.scope.name,
                                    "attributes": {
                                        a.key: a.value.string_value or a.value.int_value
                                        for a in span.attributes
                                    },
                                }
                            )
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    yield r
    r.close()


def test_tracing_is_off_without_otel_variables(monkeypatch):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    assert not tracing_requested()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert tracing_requested()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not tracing_requested()


def test_a_request_is_traced_with_its_request_id_and_sql_and_no_token(
    settings, base_env, receiver, tmp_path
):
    env = {
        **base_env,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_SERVICE_NAME": "canteen-api-test",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    api = ApiProcess(env, tmp_path / "api.log")
    try:
        api.wait_ready()
        base = f"http://{api.host}"
        r = httpx.get(f"{base}/api/v1/menu/categories", timeout=10)
        assert r.status_code == 200, r.text
        request_id = r.headers["x-request-id"]
        secret = "eyJsecret.token.value"
        r = httpx.get(f"{base}/api/v1/users/me", params={"token": secret}, timeout=10)
        assert r.status_code == 401

        def server_span(route: str) -> dict[str, Any] | None:
            for span in receiver.spans:
                a = span["attributes"]
                if a.get("http.route") == route and "canteen.request_id" in a:
                    return span
            return None

        deadline = time.monotonic() + 20
        while (
            server_span("/api/v1/users/me") is None
            or server_span("/api/v1/menu/categories") is None
        ):
            assert time.monotonic() < deadline, (receiver.spans, api.log_tail())
            time.sleep(0.1)
        menu = server_span("/api/v1/menu/categories")
        assert menu is not None
        assert menu["service"] == "canteen-api-test"
        assert menu["attributes"]["canteen.request_id"] == request_id
        # Its SQL is in the same trace.
        assert any(
            s["trace_id"] == menu["trace_id"] and "sqlalchemy" in s["scope"] for s in receiver.spans
        ), receiver.spans
        # The token in the query string is in no span.
        assert secret not in repr(receiver.spans)
    finally:
        api.stop()


@pytest.mark.skipif(BACKEND != "postgres", reason="jobs run in Celery on the PostgreSQL run")
def test_a_job_continues_the_trace_of_the_request_that_enqueued_it(
    settings, base_env, receiver, tmp_path
):
    """request-otp in the API enqueues `sms.send`; a real Celery worker (prefork) runs it
    inside the same trace. A private Redis, so no other worker takes the job."""
    import shutil
    import subprocess
    import sys

    from live import free_port

    redis_port = free_port()
    redis = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            *("--port", str(redis_port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
    )
    env = {
        **base_env,
        "CANTEEN_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CANTEEN_CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    api = ApiProcess(env, tmp_path / "api.log")
    worker_log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "canteen.cli", "worker"],
        env={**os.environ, **env, "OTEL_SERVICE_NAME": "canteen-worker-test"},
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        api.wait_ready()
        r = httpx.post(
            f"http://{api.host}/api/v1/auth/request-otp", json={"phone": "+919812300001"}
        )
        assert r.status_code == 200, r.text
        request_id = r.headers["x-request-id"]

        def traces() -> tuple[str | None, set[str]]:
            api_trace = next(
                (
                    s["trace_id"]
                    for s in receiver.spans
                    if s["attributes"].get("canteen.request_id") == request_id
                ),
                None,
            )
            worker_traces = {  # the job's own span (Celery's "run/<task>")
                s["trace_id"]
                for s in receiver.spans
                if s["service"] == "canteen-worker-test" and "sms.send" in s["name"]
            }
            return api_trace, worker_traces

        deadline = time.monotonic() + 60
        while True:
            api_trace, worker_traces = traces()
            if api_trace and api_trace in worker_traces:
                break
            assert time.monotonic() < deadline, (
                receiver.spans,
                (tmp_path / "worker.log").read_text()[-3000:],
            )
            time.sleep(0.2)
        job_spans = [
            s
            for s in receiver.spans
            if s["trace_id"] == api_trace and s["service"] == "canteen-worker-test"
        ]
        assert any("sms.send" in s["name"] for s in job_spans), job_spans
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        worker_log.close()
        api.stop()
        redis.terminate()
        redis.wait(10)
