"""The static-route table (canteen.core.routing) answers exactly as Starlette's scan would."""

from __future__ import annotations

import uuid

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Match, Mount, Route, Router

from canteen.core.routing import StaticRoutesFirst, look_up_static_routes_first
from canteen.orders.models import Order
from conftest import API, assert_error, bearer, count_rows, login_customer


def _scan(routes, method: str, path: str):
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


def test_every_route_in_the_table_is_the_one_the_scan_picks(app):
    table = app.router.middleware_stack.table
    assert ("POST", f"{API}/orders") in table  # the busiest write is a look-up
    for (method, path), route in table.items():
        assert _scan(app.router.routes, method, path) is route, (method, path)


def _ok(name: str):
    async def endpoint(request):
        return PlainTextResponse(name)

    return endpoint


def test_a_path_an_earlier_route_takes_stays_with_the_scan():
    router = Router(
        routes=[
            Route("/things/{name}", _ok("param"), methods=["GET"]),
            Route("/things/new", _ok("static"), methods=["GET", "POST"]),
            Mount("/files", routes=[Route("/list", _ok("mounted"))]),
            Route("/files/list", _ok("shadowed"), methods=["GET"]),
            Route("/plain", _ok("plain"), methods=["PUT"]),
        ]
    )
    table = StaticRoutesFirst(router).table
    # GET /things/new is the parameter route's in the scan; POST only the static route takes.
    assert ("GET", "/things/new") not in table
    assert table[("POST", "/things/new")] is router.routes[1]
    assert ("GET", "/files/list") not in table  # the mount comes first
    assert set(table) == {("POST", "/things/new"), ("PUT", "/plain")}
    for (method, path), route in table.items():
        assert _scan(router.routes, method, path) is route


async def test_requests_the_table_does_not_hold_get_the_scans_answers(client):
    # Not in the table: another method on a static path (405), an unknown path (404).
    r = await client.delete(f"{API}/orders")
    assert r.status_code == 405
    r = await client.get(f"{API}/no-such-route")
    assert r.status_code == 404


async def test_an_order_placed_through_the_table_is_one_order(client, container):
    # The looked-up route runs its whole chain: auth, validation, the error contract.
    r = await client.post(
        f"{API}/orders", json={}, headers={"X-Idempotency-Key": str(uuid.uuid4())}
    )
    assert_error(r, 401, "INVALID_TOKEN")
    student = await login_customer(client, container, "+919800000123")
    r = await client.post(
        f"{API}/orders",
        json={"items": []},
        headers={**bearer(student), "X-Idempotency-Key": str(uuid.uuid4())},
    )
    assert_error(r, 400, "VALIDATION_ERROR")
    assert await count_rows(container, Order) == 0


@pytest.mark.parametrize("late", [True, False])
async def test_a_route_added_after_the_table_is_found_by_the_scan(late):
    router = Router(routes=[Route("/a", _ok("a"), methods=["GET"])])
    if not late:
        router.routes.append(Route("/b", _ok("b"), methods=["GET"]))
    look_up_static_routes_first(router)
    if late:
        router.routes.append(Route("/b", _ok("b"), methods=["GET"]))
    assert (("GET", "/b") in router.middleware_stack.table) is not late
    transport = httpx.ASGITransport(app=router)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.get("/a")).text == "a"
        assert (await http.get("/b")).text == "b"
        assert (await http.post("/b")).status_code == 405


async def test_under_a_root_path_the_scan_answers():
    router = Router(routes=[Route("/a", _ok("a"), methods=["GET"])])
    look_up_static_routes_first(router)
    transport = httpx.ASGITransport(app=router, root_path="/canteen")
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.get("/canteen/a")).text == "a"
