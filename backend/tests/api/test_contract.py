"""The HTTP contract: envelopes, the error shape for framework errors, request ids, health."""

from __future__ import annotations

import uuid

from canteen.app import create_app
from canteen.bootstrap import build_container
from conftest import API, assert_error, make_settings


async def test_unknown_route_is_404_in_the_error_contract(client):
    r = await client.get(f"{API}/no/such/thing")
    assert_error(r, 404, "NOT_FOUND")


async def test_wrong_method_is_405_in_the_error_contract(client):
    r = await client.delete(f"{API}/auth/request-otp")
    err = assert_error(r, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in r.headers["allow"]
    assert err["details"] == []


async def test_malformed_json_is_a_validation_error(client):
    r = await client.post(
        f"{API}/auth/request-otp",
        content=b'{"phone": ',
        headers={"content-type": "application/json"},
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "body"


async def test_failed_validation_lists_one_detail_per_field(client):
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": "", "otp": "12ab"})
    err = assert_error(r, 400, "VALIDATION_ERROR")
    fields = sorted(d["field"] for d in err["details"])
    assert fields == ["otp", "phone"]
    assert all(d["message"] for d in err["details"])


async def test_missing_body_is_a_validation_error(client):
    r = await client.post(f"{API}/auth/request-otp")
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] in ("body", "phone")


async def test_unhandled_exception_is_internal_error_without_internals(container):
    app = create_app(container.settings, container=container)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("password=hunter2 at /srv/secret.py line 3")

    import httpx

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/boom", headers={"X-Request-ID": "trace-500"})
    err = assert_error(r, 500, "INTERNAL_ERROR")
    assert "hunter2" not in r.text and "secret.py" not in r.text
    assert err["details"] == []
    assert r.headers["x-request-id"] == "trace-500"


async def test_request_id_is_echoed(client):
    r = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get(f"{API}/nope", headers={"X-Request-ID": "err-id-9"})
    assert r.headers["x-request-id"] == "err-id-9"


async def test_request_id_is_generated_when_missing_or_unsafe(client):
    r = await client.get("/healthz")
    uuid.UUID(r.headers["x-request-id"])
    r = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    generated = r.headers["x-request-id"]
    assert generated != "bad id\twith spaces"
    uuid.UUID(generated)


async def test_health_and_readiness(client, settings):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = await client.get("/readyz")
    assert r.status_code == 200
    checks = r.json()["data"]["checks"]
    assert checks["database"] == "ok"
    assert checks["redis"] == ("ok" if settings.redis_url else "embedded")


async def test_readiness_is_503_when_redis_is_unreachable(base_env):
    import httpx

    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    s = make_settings(base_env, redis_url="redis://127.0.0.1:1/0")
    c = build_container(s)
    app = create_app(s, container=c)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as ac:
        r = await ac.get("/readyz")
    await c.close()
    err = assert_error(r, 503, "SERVICE_UNAVAILABLE")
    assert {"check": "redis", "status": "unreachable"} in err["details"]


async def test_readiness_is_503_when_the_database_is_unreachable(base_env):
    import httpx

    s = make_settings(base_env, database_url="postgresql://nobody@127.0.0.1:1/none")
    c = build_container(s)
    app = create_app(s, container=c)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as ac:
        r = await ac.get("/readyz")
    await c.close()
    err = assert_error(r, 503, "SERVICE_UNAVAILABLE")
    assert {"check": "database", "status": "unreachable"} in err["details"]


async def test_openapi_and_docs_are_served(client):
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert f"{API}/auth/request-otp" in spec["paths"]
    op_ids = [op["operationId"] for p in spec["paths"].values() for op in p.values()]
    assert len(op_ids) == len(set(op_ids))
    assert "auth-request_otp" in op_ids
    r = await client.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()


async def test_token_query_values_are_redacted_from_logs(client, caplog):
    import logging

    from canteen.core.logging import JsonFormatter

    caplog.set_level(logging.INFO, logger="canteen.access")
    await client.get(f"{API}/nothing?token=eyJhbGciOiJIUzI1NiJ9.secret.sig&x=1")
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "canteen.access"]
    assert lines, "the request was not logged"
    assert all("eyJhbGciOiJIUzI1NiJ9" not in line for line in lines)
    assert any("token=[REDACTED]" in line and '"request_id"' in line for line in lines)
