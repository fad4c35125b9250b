"""Placing an order by the route's lean handler (canteen.core.lean, issue 20).

The lean handler does what FastAPI's dependencies do, in their order, and declines what
it is not sure of. Every answer, good or bad, must be the one FastAPI's own handler gives
(`CANTEEN_ORDER_FAST_PATH=false`), with nothing written on an error.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends
from fastapi import routing as fastapi_routing
from orders_helpers import order_body, place, seed_menu

from canteen.app import create_app
from canteen.events.models import Event
from canteen.orders.endpoints import PlaceOrderRoute
from canteen.orders.models import Order, OrderItem
from conftest import API, bearer, count_rows, login_customer


@pytest.fixture
async def plain(container):
    """The same app and database, orders placed through FastAPI's dependency solving."""
    app = create_app(
        container.settings.model_copy(update={"order_fast_path": False}), container=container
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _written(container) -> tuple[int, int, int]:
    return (
        await count_rows(container, Order),
        await count_rows(container, OrderItem),
        await count_rows(container, Event),
    )


def _solves(monkeypatch) -> list[int]:
    """FastAPI's dependency solving, counted (observed, not replaced)."""
    calls: list[int] = []
    solve = fastapi_routing.solve_dependencies

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await solve(*args, **kwargs)

    monkeypatch.setattr(fastapi_routing, "solve_dependencies", counted)
    return calls


async def test_a_good_order_is_placed_without_fastapis_dependency_solving(
    client, plain, container, monkeypatch
):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    solves = _solves(monkeypatch)
    lean = await place(client, me, order_body((m.dosa, 2), (m.chai, 1), instructions="no ice"))
    assert lean.status_code == 201, lean.text
    assert solves == []
    full = await place(plain, me, order_body((m.dosa, 2), (m.chai, 1), instructions="no ice"))
    assert full.status_code == 201 and solves == [1]
    a, b = lean.json()["data"], full.json()["data"]
    assert a.keys() == b.keys()
    differ = {"id", "number", "pickup_code", "estimated_ready_at", "promised_ready_at"}
    differ |= {"pickup_window_start", "pickup_window_end", "created_at", "updated_at"}
    differ |= {"confirmed_at", "items"}
    assert {k: v for k, v in a.items() if k not in differ} == {
        k: v for k, v in b.items() if k not in differ
    }
    strip = [{k: v for k, v in i.items() if k != "id"} for i in a["items"]]
    assert strip == [{k: v for k, v in i.items() if k != "id"} for i in b["items"]]
    assert lean.headers["content-type"] == full.headers["content-type"]


async def test_a_replay_is_the_same_bytes_by_either_handler(client, plain, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    key, body = str(uuid.uuid4()), order_body((m.dosa, 1), payment_method="upi")
    first = await place(client, me, body, key)
    assert first.status_code == 201, first.text
    lean, full = await place(client, me, body, key), await place(plain, me, body, key)
    assert lean.status_code == full.status_code == 200
    assert lean.content == full.content
    assert json.loads(lean.content)["data"]["id"] == first.json()["data"]["id"]
    assert await _written(container) == (1, 1, 1)


def _bad_requests(menu: Any, me: dict[str, Any]) -> list[tuple[str, dict[str, Any], bytes]]:
    """(what, headers, body) of requests that must be refused, one refusal each."""
    good = json.dumps(order_body((menu.dosa, 1))).encode()
    auth = {**bearer(me), "Content-Type": "application/json"}
    keyed = {**auth, "X-Idempotency-Key": str(uuid.uuid4())}
    forged = {**keyed, "Authorization": "Bearer not-a-token"}
    nul = json.dumps(order_body((menu.dosa, 1), instructions="a\u0000b")).encode()
    return [
        ("not JSON", keyed, b"{items:"),
        ("empty body", keyed, b""),
        ("a JSON list", keyed, b"[]"),
        ("not JSON, bad token", forged, b"{items:"),
        ("text content type", {**keyed, "Content-Type": "text/plain"}, good),
        ("no bearer header", {"X-Idempotency-Key": "k-1"}, good),
        ("a basic header", {**keyed, "Authorization": "Basic eDp5"}, good),
        ("a forged token", forged, good),
        ("a NUL", keyed, nul),
        ("a NUL, bad token", forged, nul),
        ("a field refused", keyed, json.dumps(order_body((menu.dosa, 0))).encode()),
        ("a field refused, bad token", forged, json.dumps({"items": []}).encode()),
        ("no idempotency key", auth, good),
        ("an unknown dish", keyed, json.dumps(order_body((uuid.uuid4(), 1))).encode()),
        ("a hidden dish", keyed, json.dumps(order_body((menu.hidden, 1))).encode()),
    ]


async def test_every_refusal_is_fastapis_and_writes_nothing(client, plain, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    for what, headers, content in _bad_requests(m, me):
        lean = await client.post(f"{API}/orders", headers=headers, content=content)
        full = await plain.post(f"{API}/orders", headers=headers, content=content)
        assert 400 <= lean.status_code < 500, (what, lean.text)
        assert (lean.status_code, lean.json()) == (full.status_code, full.json()), what
        assert lean.json()["error"]["code"] and lean.json()["error"]["message"], what
    assert await _written(container) == (0, 0, 0)


async def _audit() -> None:
    return None


async def _create_order_with_an_audit(_: Annotated[None, Depends(_audit)]) -> dict[str, str]:
    return {}


async def test_a_route_dependency_the_lean_handler_does_not_do_is_refused():
    """A dependency added to the route later would be skipped by its lean handler: the
    route is not built."""
    router = APIRouter()
    with pytest.raises(TypeError, match="lean handler does not do what"):
        router.add_api_route(
            "/orders",
            _create_order_with_an_audit,
            methods=["POST"],
            route_class_override=PlaceOrderRoute,
        )
