"""/metrics (issue 19): counters and histograms move with real requests; the endpoint is
closed without its token. Runs on both backends (the outbox and pool readings differ)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from orders_helpers import order_body, place, seed_menu
from prometheus_client.parser import text_string_to_metric_families

from canteen.app import create_app
from canteen.observability.metrics import MetricsMiddleware
from canteen.settings import Settings
from conftest import API, BACKEND, bearer, login_customer, login_staff

TOKEN = "metrics-7f3a9c1e5b2d8406a1c3e5f7"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def metered(container) -> Any:
    """The app with a metrics token, over ASGI."""
    settings = container.settings.model_copy(update={"metrics_token": TOKEN})
    app = create_app(settings, container=container)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
        yield ac


async def _scrape(client: httpx.AsyncClient) -> dict[Any, float]:
    r = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    return _samples(r.text)


async def test_an_order_moves_the_counters_and_the_latency_histogram(metered, container):
    m = await seed_menu(container)
    before = await _scrape(metered)
    student = await login_customer(metered, container)
    kitchen = await login_staff(metered, container, "kitchen", "+919000000301")

    # A refused order writes nothing, so it counts nothing but its request.
    r = await place(metered, student, order_body((m.hidden, 1)))
    assert r.status_code == 409, r.text
    r = await place(metered, student, order_body((m.dosa, 1)))
    assert r.status_code == 201, r.text
    done = r.json()["data"]
    for status in ("preparing", "ready"):
        r = await metered.patch(
            f"{API}/admin/orders/{done['id']}/status",
            json={"status": status},
            headers=bearer(kitchen),
        )
        assert r.status_code == 200, r.text
    r = await metered.post(
        f"{API}/admin/orders/{done['id']}/handover",
        json={"pickup_code": done["pickup_code"]},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    r = await place(metered, student, order_body((m.chai, 2)))
    assert r.status_code == 201, r.text
    r = await metered.post(f"{API}/orders/{r.json()['data']['id']}/cancel", headers=bearer(student))
    assert r.status_code == 200, r.text
    r = await metered.get(f"{API}/menu/items")
    assert r.status_code == 200

    after = await _scrape(metered)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("canteen_orders_placed_total", payment_method="cash") == 2
    assert delta("canteen_orders_completed_total") == 1
    assert delta("canteen_orders_cancelled_total", by="customer") == 1
    # Latency by route template, never by raw path (ids would explode the label set).
    assert (
        delta("canteen_http_requests_total", method="POST", route="/api/v1/orders", status="201")
        == 2
    )
    assert (
        delta("canteen_http_requests_total", method="POST", route="/api/v1/orders", status="409")
        == 1
    )
    assert (
        delta(
            "canteen_http_request_duration_seconds_count",
            method="PATCH",
            route="/api/v1/admin/orders/{order_id}/status",
            status="2xx",
        )
        == 2
    )
    assert (
        delta(
            "canteen_http_request_duration_seconds_bucket",
            method="POST",
            route="/api/v1/orders",
            status="2xx",
            le="+Inf",
        )
        == 2
    )
    assert (
        delta("canteen_http_requests_total", method="GET", route="/api/v1/menu/items", status="200")
        >= 1
    )
    assert not any(done["id"] in str(labels) for _, labels in after)
    # Scrape-time readings: the outbox has delivered (or is about to), the pool is read.
    assert _value(after, "canteen_outbox_lag_seconds") >= 0
    assert ("canteen_db_pool_connections_in_use", ()) in after
    assert _value(after, "canteen_metrics_scrape_errors_total", reading="outbox") == _value(
        before, "canteen_metrics_scrape_errors_total", reading="outbox"
    )


async def test_metrics_refuse_a_missing_or_wrong_token(metered):
    r = await metered.get("/metrics")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "canteen_" not in r.text
    r = await metered.get("/metrics", headers={"Authorization": "Bearer wrong-token"})
    assert r.status_code == 401
    r = await metered.get("/metrics", params={"token": TOKEN})  # only the header counts
    assert r.status_code == 401


async def test_production_without_a_token_has_no_metrics_endpoint():
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the endpoint must answer before the application")

    settings = Settings(env="production", redis_url="redis://127.0.0.1:1/0")
    middleware = MetricsMiddleware(app, settings=settings, container=None)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
        r = await ac.get("/metrics")
    assert r.status_code == 404
    assert "canteen_" not in r.text


def test_production_refuses_a_weak_metrics_token():
    from canteen.settings import ConfigurationError, check_production

    settings = Settings(env="production", metrics_token="metrics")
    with pytest.raises(ConfigurationError, match="CANTEEN_METRICS_TOKEN"):
        check_production(settings)


@pytest.mark.skipif(BACKEND != "postgres", reason="--workers > 1 needs Redis")
def test_workers_of_one_server_report_the_sum_of_their_counts(settings, base_env, tmp_path):
    """`canteen serve --workers 2` with PROMETHEUS_MULTIPROC_DIR: whichever worker answers
    the scrape reports every worker's requests (a real server, real worker processes)."""
    import os
    import subprocess
    import sys
    import time

    from live import free_port

    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        **base_env,
        "CANTEEN_METRICS_TOKEN": TOKEN,
        "CANTEEN_AUTO_MIGRATE": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(prom_dir),
    }
    log = (tmp_path / "api.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "canteen.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90

        # Ready once it answers and both workers exist (each writes its own value files).
        def ready() -> bool:
            try:
                ok = httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False
            pids = {p.name.rsplit("_", 1)[-1] for p in prom_dir.glob("counter_*.db")}
            return ok and len(pids) >= 2

        while not ready():
            assert proc.poll() is None, (tmp_path / "api.log").read_text()
            assert time.monotonic() < deadline, "the two workers did not start"
            time.sleep(0.2)
        time.sleep(1.0)  # the second worker's lifespan may still be running

        def healthz_count() -> float:
            with httpx.Client(base_url=base, timeout=5) as http:  # a new connection each time
                r = http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert r.status_code == 200, r.text
            return _value(
                _samples(r.text),
                "canteen_http_requests_total",
                method="GET",
                route="/healthz",
                status="200",
            )

        before = healthz_count()
        for _ in range(30):
            with httpx.Client(base_url=base, timeout=5) as http:
                assert http.get("/healthz").status_code == 200
        # Every scrape, whichever worker answers it, sees all 30.
        assert {healthz_count() - before for _ in range(6)} == {30}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_a_served_process_freezes_its_start_up_heap(settings, base_env, tmp_path):
    """`canteen serve` freezes the objects of its imports and start-up out of the garbage
    collector's walk (canteen.core.heap): a full collection of them stopped the event loop
    for 100-170 ms in the lunch rush bench. A test's app (create_app) freezes nothing:
    its process builds many apps, and what a frozen one held would never be freed."""
    import gc

    from live import ApiProcess

    api = ApiProcess({**base_env, "CANTEEN_METRICS_TOKEN": TOKEN}, tmp_path / "api.log")
    try:
        api.wait_ready()
        r = httpx.get(
            f"{api.origin}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert r.status_code == 200, r.text
        # The imports alone are ~190,000 objects.
        assert _value(_samples(r.text), "canteen_gc_frozen_objects") > 50_000, api.log_tail()
    finally:
        api.stop()
    assert gc.get_freeze_count() == 0  # this process built its apps with create_app
