"""86 from the board (issue 17, part 4): kitchen staff switch a dish off or set how many
portions are left without the admin's item editor; students' open menus hear it at once."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from live import serve
from orders_helpers import order_body, place, seed_menu
from sqlalchemy import func, select
from test_menu_stream import _events, _what

from canteen.events.models import Event
from canteen.menu.models import MenuItem
from conftest import API, assert_error, bearer, login_customer, login_staff


async def _stock(container, item_id):
    async with container.sessionmaker() as s:
        item = await s.get(MenuItem, item_id)
        return item.is_available, item.stock_remaining


async def _menu_events(container) -> int:
    async with container.sessionmaker() as s:
        return int(
            await s.scalar(
                select(func.count()).select_from(Event).where(Event.type == "menu.updated")
            )
            or 0
        )


async def test_kitchen_sets_portions_left_and_86s_and_an_open_menu_hears_both(
    app, client, container
):
    m = await seed_menu(container, samosa_stock=10)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    async with (
        serve(app) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as http,
        http.stream("GET", f"{API}/menu/stream", params={"token": me["access_token"]}) as resp,
    ):
        reading = asyncio.create_task(_events(resp, 4))
        await asyncio.sleep(0.2)
        r = await client.patch(
            f"{API}/admin/menu/items/{m.samosa}/stock",
            json={"stock_remaining": 2},
            headers=bearer(kitchen),
        )
        assert r.status_code == 200, r.text
        assert r.json()["data"]["stock_remaining"] == 2
        assert r.json()["data"]["sold_out"] is False
        r = await client.patch(
            f"{API}/admin/menu/items/{m.samosa}/stock",
            json={"stock_remaining": 0},
            headers=bearer(kitchen),
        )
        assert r.status_code == 200, r.text
        assert r.json()["data"]["sold_out"] is True
        r = await client.patch(
            f"{API}/admin/menu/items/{m.dosa}/availability",
            json={"is_available": False},
            headers=bearer(kitchen),
        )
        assert r.status_code == 200, r.text
        events = await reading
    assert _what(events) == [
        ("hello", None),
        ("menu.updated", "stock_set"),
        ("menu.updated", "stock_set"),
        ("menu.updated", "availability_changed"),
    ]
    assert events[1]["data"]["data"]["stock_remaining"] == 2
    assert events[2]["data"]["data"] | {"sold_out": True} == events[2]["data"]["data"]
    # The public menu says so, and a cart holding either dish is refused at checkout.
    r = await client.get(f"{API}/menu/items/{m.samosa}")
    assert r.json()["data"]["sold_out"] is True and r.json()["data"]["stock_remaining"] == 0
    r = await client.get(f"{API}/menu/items/{m.dosa}")
    assert r.json()["data"]["sold_out"] is True
    for dish in (m.samosa, m.dosa):
        r = await place(client, me, order_body((dish, 1)))
        assert_error(r, 409, "ITEM_UNAVAILABLE")
    # Back on: 3 left, and an order for 4 is refused while one for 3 goes through.
    r = await client.patch(
        f"{API}/admin/menu/items/{m.samosa}/stock",
        json={"stock_remaining": 3},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    assert_error(await place(client, me, order_body((m.samosa, 4))), 409, "ITEM_UNAVAILABLE")
    assert (await place(client, me, order_body((m.samosa, 3)))).status_code == 201
    assert await _stock(container, m.samosa) == (True, 0)


async def test_setting_the_same_count_again_changes_and_announces_nothing(client, container):
    m = await seed_menu(container, samosa_stock=5)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    before = await _menu_events(container)
    r = await client.patch(
        f"{API}/admin/menu/items/{m.samosa}/stock",
        json={"stock_remaining": 5},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    assert await _menu_events(container) == before
    # null: no count today (the dish is no longer limited until the next refill).
    r = await client.patch(
        f"{API}/admin/menu/items/{m.samosa}/stock",
        json={"stock_remaining": None},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200 and r.json()["data"]["stock_remaining"] is None
    assert await _menu_events(container) == before + 1


async def test_customers_and_delivery_staff_cannot_86(client, container):
    m = await seed_menu(container, samosa_stock=5)
    customer = await login_customer(client, container)
    delivery = await login_staff(client, container, "delivery", "+919000000301")
    before = await _menu_events(container)
    for who in (customer, delivery):
        r = await client.patch(
            f"{API}/admin/menu/items/{m.samosa}/stock",
            json={"stock_remaining": 0},
            headers=bearer(who),
        )
        err = assert_error(r, 403, "INSUFFICIENT_ROLE")
        assert err["message"] == "Your account is not allowed to do this"
        assert err["details"][0]["required_roles"] == ["admin", "kitchen"]
        r = await client.patch(
            f"{API}/admin/menu/items/{m.samosa}/availability",
            json={"is_available": False},
            headers=bearer(who),
        )
        assert_error(r, 403, "INSUFFICIENT_ROLE")
    r = await client.patch(f"{API}/admin/menu/items/{m.samosa}/stock", json={"stock_remaining": 0})
    assert_error(r, 401, "INVALID_TOKEN")
    assert await _stock(container, m.samosa) == (True, 5)
    assert await _menu_events(container) == before


async def test_bad_counts_and_unknown_dishes_are_refused_and_change_nothing(client, container):
    m = await seed_menu(container, samosa_stock=5)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    before = await _menu_events(container)
    url = f"{API}/admin/menu/items/{m.samosa}/stock"
    for body, issue in (
        ({"stock_remaining": -1}, "greater_than_equal"),
        ({"stock_remaining": 100_001}, "less_than_equal"),
        ({"stock_remaining": "3"}, "int_parsing"),
        ({"stock_remaining": True}, "int_type"),
        ({"stock_remaining": 2.5}, "int_from_float"),
        ({}, "missing"),
    ):
        err = assert_error(
            await client.patch(url, json=body, headers=bearer(kitchen)), 400, "VALIDATION_ERROR"
        )
        assert err["message"]
        assert [(d["field"], d["issue"]) for d in err["details"]] == [("stock_remaining", issue)], (
            body,
            err,
        )
    err = assert_error(
        await client.patch(
            f"{API}/admin/menu/items/{uuid.uuid4()}/stock",
            json={"stock_remaining": 1},
            headers=bearer(kitchen),
        ),
        404,
        "NOT_FOUND",
    )
    assert err["message"] == "No menu item with this id" and err["details"] == []
    assert await _stock(container, m.samosa) == (True, 5)
    assert await _menu_events(container) == before
