"""/healthz and OpenAPI's info.version report the installed package's version."""

from __future__ import annotations

from importlib.metadata import version


async def test_healthz_and_openapi_report_the_package_version(client):
    expected = version("canteen")
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "version": expected}
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    assert r.json()["info"]["version"] == expected
