"""Options on dishes (issue 16, part 1): admins manage option groups, the public menu
carries them, and placement validates, prices and keeps the chosen options."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from live import serve
from menu_support import admin_session, counts, kitchen_session, make_category, make_slots
from orders_helpers import place
from sqlalchemy import func, select

from canteen.events.models import Event
from canteen.menu.models import MenuItem
from canteen.orders.models import Order, OrderItem
from canteen_testkit.sse import read_sse
from conftest import API, assert_error, bearer, count_rows, login_customer

FILLING = {
    "name": "Filling",
    "kind": "single",
    "required": True,
    "options": [
        {"name": "Plain", "price_delta": 0},
        {"name": "Masala", "price_delta": 1500},
        {"name": "Cheese", "price_delta": 3000},
    ],
}
EXTRAS = {
    "name": "Extras",
    "kind": "multiple",
    "max_select": 2,
    "options": [
        {"name": "Chutney", "price_delta": 0},
        {"name": "Butter", "price_delta": 1000},
        {"name": "Podi", "price_delta": 500},
    ],
}


def item_body(category_id: str, name: str, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category_id": category_id,
        "name": name,
        "price": 4500,
        "diet": "veg",
        "time_slots": ["lunch"],
        "prep_minutes": 10,
    }
    body.update(kw)
    return body


async def dosa_menu(client: Any, container: Any) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """An admin, a Dosa with a required filling and optional extras, a Chai without groups."""
    admin = await admin_session(client, container)
    await make_slots(client, admin)
    cat = await make_category(client, admin, "South Indian")
    r = await client.post(
        f"{API}/admin/menu/items",
        json=item_body(cat, "Dosa", option_groups=[FILLING, EXTRAS], daily_stock=30),
        headers=bearer(admin),
    )
    assert r.status_code == 201, r.text
    dosa = r.json()["data"]
    r = await client.post(
        f"{API}/admin/menu/items", json=item_body(cat, "Chai", price=1500), headers=bearer(admin)
    )
    assert r.status_code == 201, r.text
    return admin, dosa, r.json()["data"]


def option_id(item: dict[str, Any], group: str, name: str) -> str:
    g = next(g for g in item["option_groups"] if g["name"] == group)
    return str(next(o["id"] for o in g["options"] if o["name"] == name))


def line(item: dict[str, Any], quantity: int, *options: str, **kw: Any) -> dict[str, Any]:
    return {"menu_item_id": item["id"], "quantity": quantity, "options": list(options), **kw}


def body(*lines: dict[str, Any], **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "items": list(lines),
        "order_type": "pickup",
        "payment_method": "cash",
        "time_slot": "lunch",
    }
    out.update(kw)
    return out


async def order_state(container: Any) -> dict[str, Any]:
    """What placing an order writes: orders, lines, events, stock, the menu's versions."""
    async with container.sessionmaker() as s:
        stock = list(await s.scalars(select(MenuItem.stock_remaining).order_by(MenuItem.id)))
        lines = int(await s.scalar(select(func.count()).select_from(OrderItem)) or 0)
    return {
        "orders": await count_rows(container, Order),
        "lines": lines,
        "events": await count_rows(container, Event),
        "stock": stock,
        "menu": (await counts(container))["config"],
    }


# ---- admin -----------------------------------------------------------------------------


async def test_admin_creates_and_edits_option_groups(client, container):
    admin, dosa, chai = await dosa_menu(client, container)
    filling, extras = dosa["option_groups"]
    assert (filling["kind"], filling["required"], filling["min_select"], filling["max_select"]) == (
        "single",
        True,
        1,
        1,
    )
    assert (extras["kind"], extras["required"], extras["min_select"], extras["max_select"]) == (
        "multiple",
        False,
        0,
        2,
    )
    assert [(o["name"], o["price_delta"], o["is_available"]) for o in filling["options"]] == [
        ("Plain", 0, True),
        ("Masala", 1500, True),
        ("Cheese", 3000, True),
    ]
    assert chai["option_groups"] == []
    # The public menu carries the groups, from the cached bytes, item and list alike.
    r = await client.get(f"{API}/menu/items/{dosa['id']}")
    assert r.status_code == 200 and r.json()["data"]["option_groups"] == dosa["option_groups"]
    listed = await client.get(f"{API}/menu/items")
    assert [i["option_groups"] for i in listed.json()["data"] if i["id"] == dosa["id"]] == [
        dosa["option_groups"]
    ]
    etag = listed.headers["etag"]

    # Editing with the ids kept keeps them; a new option gets one; the menu moves.
    groups = [dict(g) for g in dosa["option_groups"]]
    groups[0] = {
        **groups[0],
        "options": [*groups[0]["options"], {"name": "Paneer", "price_delta": 2500}],
    }
    r = await client.patch(
        f"{API}/admin/menu/items/{dosa['id']}",
        json={"option_groups": groups},
        headers=bearer(admin),
    )
    assert r.status_code == 200, r.text
    edited = r.json()["data"]["option_groups"]
    assert [o["id"] for o in edited[0]["options"][:3]] == [o["id"] for o in filling["options"]]
    assert edited[0]["options"][3]["name"] == "Paneer" and edited[0]["options"][3]["id"]
    assert edited[1] == extras
    after = await client.get(f"{API}/menu/items", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    event = (await client.get(f"{API}/menu/items/{dosa['id']}")).json()["data"]
    assert event["option_groups"] == edited
    async with container.sessionmaker() as s:
        last = await s.scalar(select(Event).order_by(Event.seq.desc()).limit(1))
    assert last is not None and last.type == "menu.updated"
    assert last.data["changes"] == ["option_groups"] and last.data["id"] == dosa["id"]

    # The same groups again change nothing: no event, same ETag.
    before = await count_rows(container, Event)
    r = await client.patch(
        f"{API}/admin/menu/items/{dosa['id']}",
        json={"option_groups": edited},
        headers=bearer(admin),
    )
    assert r.status_code == 200 and r.json()["data"]["option_groups"] == edited
    assert await count_rows(container, Event) == before

    # An empty list removes them.
    r = await client.patch(
        f"{API}/admin/menu/items/{dosa['id']}", json={"option_groups": []}, headers=bearer(admin)
    )
    assert r.status_code == 200 and r.json()["data"]["option_groups"] == []


async def test_admin_refuses_inconsistent_groups_all_at_once(client, container):
    admin, dosa, _ = await dosa_menu(client, container)
    before = await counts(container)
    bad = [
        {
            "name": "Size",
            "kind": "single",
            "max_select": 2,
            "options": [{"name": "S"}, {"name": "L"}],
        },
        {
            "name": "size",
            "kind": "multiple",
            "required": True,
            "min_select": 0,
            "options": [{"name": "X"}],
        },
        {
            "name": "Sauce",
            "kind": "multiple",
            "min_select": 1,
            "max_select": 3,
            "options": [{"name": "Red"}, {"name": "red"}],
        },
    ]
    r = await client.patch(
        f"{API}/admin/menu/items/{dosa['id']}",
        json={"option_groups": bad, "time_slots": ["brunch"]},
        headers=bearer(admin),
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [(d["field"], d["issue"]) for d in err["details"]] == [
        ("time_slots", "unknown_time_slot"),
        ("option_groups.0.max_select", "single_choice"),
        ("option_groups.1.name", "duplicate"),
        ("option_groups.1.min_select", "required_group"),
        ("option_groups.2.min_select", "optional_group"),
        ("option_groups.2.max_select", "above_options"),
        ("option_groups.2.options.1.name", "duplicate"),
    ]
    assert all(d["message"] for d in err["details"])
    assert await counts(container) == before

    # The shape itself: a group without options, a negative delta (schema validation).
    r = await client.patch(
        f"{API}/admin/menu/items/{dosa['id']}",
        json={
            "option_groups": [
                {"name": "Empty", "options": []},
                {"name": "Neg", "options": [{"name": "A", "price_delta": -5}]},
            ]
        },
        headers=bearer(admin),
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [(d["field"], d["issue"]) for d in err["details"]] == [
        ("option_groups.0.options", "too_short"),
        ("option_groups.1.options.0.price_delta", "greater_than_equal"),
    ], err
    assert await counts(container) == before

    # Null is refused (leave the field out to keep the groups).
    r = await client.patch(
        f"{API}/admin/menu/items/{dosa['id']}", json={"option_groups": None}, headers=bearer(admin)
    )
    assert_error(r, 400, "VALIDATION_ERROR")
    assert await counts(container) == before


async def test_kitchen_switches_one_option_off(client, container):
    _, dosa, _ = await dosa_menu(client, container)
    kitchen = await kitchen_session(client, container)
    cheese = option_id(dosa, "Filling", "Cheese")
    path = f"{API}/admin/menu/items/{dosa['id']}/options/{cheese}/availability"
    r = await client.patch(path, json={"is_available": False}, headers=bearer(kitchen))
    assert r.status_code == 200, r.text
    public = (await client.get(f"{API}/menu/items/{dosa['id']}")).json()["data"]
    states = {o["name"]: o["is_available"] for o in public["option_groups"][0]["options"]}
    assert states == {"Plain": True, "Masala": True, "Cheese": False}
    assert public["sold_out"] is False  # the dish itself is still on

    before = await counts(container)
    unknown = f"{API}/admin/menu/items/{dosa['id']}/options/{uuid.uuid4()}/availability"
    err = assert_error(
        await client.patch(unknown, json={"is_available": False}, headers=bearer(kitchen)),
        404,
        "NOT_FOUND",
    )
    assert err["message"] == "The dish has no option with this id" and err["details"] == []
    assert await counts(container) == before


async def test_an_open_menu_hears_an_option_switched_off(app, client, container):
    _, dosa, _ = await dosa_menu(client, container)
    kitchen = await kitchen_session(client, container)
    me = await login_customer(client, container)
    cheese = option_id(dosa, "Filling", "Cheese")
    async with (
        serve(app) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as http,
        http.stream("GET", f"{API}/menu/stream", params={"token": me["access_token"]}) as resp,
    ):
        assert resp.status_code == 200
        reading = asyncio.create_task(read_sse(resp, 2))
        await asyncio.sleep(0.2)
        r = await client.patch(
            f"{API}/admin/menu/items/{dosa['id']}/options/{cheese}/availability",
            json={"is_available": False},
            headers=bearer(kitchen),
        )
        assert r.status_code == 200, r.text
        events = await reading
    assert [e["event"] for e in events] == ["hello", "menu.updated"], events
    data = events[1]["data"]["data"]
    assert data["action"] == "option_availability_changed" and data["id"] == dosa["id"]
    assert data["option_id"] == cheese and data["is_available"] is False
    assert data["changes"] == ["option_groups"]


# ---- placement -------------------------------------------------------------------------


async def test_options_are_priced_and_kept_on_the_line(client, container):
    admin, dosa, chai = await dosa_menu(client, container)
    me = await login_customer(client, container)
    masala, cheese = option_id(dosa, "Filling", "Masala"), option_id(dosa, "Filling", "Cheese")
    butter, podi = option_id(dosa, "Extras", "Butter"), option_id(dosa, "Extras", "Podi")
    # Two lines of the same dish with other options are two lines; a dish without groups
    # is ordered as before (no `options` at all).
    req = body(
        line(dosa, 2, podi, masala, butter, unit_price=4500 + 1500 + 1000 + 500),
        line(dosa, 1, cheese),
        {"menu_item_id": chai["id"], "quantity": 1},
        expected_total=2 * 7500 + 7500 + 1500,
    )
    r = await place(client, me, req)
    assert r.status_code == 201, r.text
    o = r.json()["data"]
    assert [(i["name"], i["unit_price"], i["quantity"], i["line_total"]) for i in o["items"]] == [
        ("Dosa", 7500, 2, 15000),
        ("Dosa", 7500, 1, 7500),
        ("Chai", 1500, 1, 1500),
    ]
    # The dish's order (group, then option), whatever order the request gave.
    assert [(x["group"], x["name"], x["price_delta"]) for x in o["items"][0]["options"]] == [
        ("Filling", "Masala", 1500),
        ("Extras", "Butter", 1000),
        ("Extras", "Podi", 500),
    ]
    assert [x["id"] for x in o["items"][1]["options"]] == [cheese]
    assert o["items"][2]["options"] == []
    assert o["subtotal"] == o["total"] == 24000
    # Stock counts the dish across both lines.
    async with container.sessionmaker() as s:
        assert (await s.get(MenuItem, uuid.UUID(dosa["id"]))).stock_remaining == 27
    created = await client.get(f"{API}/orders/{o['id']}", headers=bearer(me))
    assert created.json()["data"]["items"] == o["items"]

    # The snapshot keeps the names and prices the order was placed with.
    groups = dosa["option_groups"]
    groups[0]["options"][1] = {
        **groups[0]["options"][1],
        "name": "Mysore masala",
        "price_delta": 2000,
    }
    r = await client.patch(
        f"{API}/admin/menu/items/{dosa['id']}",
        json={"option_groups": groups},
        headers=bearer(admin),
    )
    assert r.status_code == 200, r.text
    again = (await client.get(f"{API}/orders/{o['id']}", headers=bearer(me))).json()["data"]
    assert again["items"][0]["options"][0]["name"] == "Masala"
    assert again["items"][0]["unit_price"] == 7500
    history = (await client.get(f"{API}/orders", headers=bearer(me))).json()["data"]
    assert history[0]["items"] == o["items"]


async def test_delivery_fee_and_options_make_the_total(client, container):
    _, dosa, _ = await dosa_menu(client, container)
    me = await login_customer(client, container)
    cheese = option_id(dosa, "Filling", "Cheese")
    req = body(
        line(dosa, 3, cheese),
        order_type="delivery",
        delivery_address="Hostel 4, room 12",
        expected_total=3 * 7500 + 2000,
    )
    r = await place(client, me, req)
    assert r.status_code == 201, r.text
    assert (r.json()["data"]["subtotal"], r.json()["data"]["total"]) == (22500, 24500)


async def test_gone_and_switched_off_options_are_refused_with_the_dishes(client, container):
    _, dosa, chai = await dosa_menu(client, container)
    kitchen = await kitchen_session(client, container)
    me = await login_customer(client, container)
    cheese, masala = option_id(dosa, "Filling", "Cheese"), option_id(dosa, "Filling", "Masala")
    r = await client.patch(
        f"{API}/admin/menu/items/{dosa['id']}/options/{cheese}/availability",
        json={"is_available": False},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200
    r = await client.patch(
        f"{API}/admin/menu/items/{chai['id']}/availability",
        json={"is_available": False},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200
    gone = str(uuid.uuid4())
    before = await order_state(container)
    key = str(uuid.uuid4())
    req = body(line(dosa, 1, masala, gone), line(dosa, 1, cheese), line(chai, 1))
    err = assert_error(await place(client, me, req, key), 409, "ITEM_UNAVAILABLE")
    assert err["details"] == [
        {"menu_item_id": chai["id"], "reason": "unavailable", "name": "Chai"},
        {
            "field": "items.0.options",
            "issue": "option_not_found",
            "message": "Dosa: that choice is no longer on the menu",
            "reason": "option_not_found",
            "menu_item_id": dosa["id"],
            "option_id": gone,
            "name": "Dosa",
        },
        {
            "field": "items.1.options",
            "issue": "option_unavailable",
            "message": "Dosa: Cheese is not available right now",
            "reason": "option_unavailable",
            "menu_item_id": dosa["id"],
            "option_id": cheese,
            "name": "Dosa",
            "option": "Cheese",
        },
    ]
    assert await order_state(container) == before
    # Nothing was kept for the key either: the corrected request goes through with it.
    r = await client.patch(
        f"{API}/admin/menu/items/{chai['id']}/availability",
        json={"is_available": True},
        headers=bearer(kitchen),
    )
    ok = await place(client, me, body(line(dosa, 1, masala), line(chai, 1)), key)
    assert ok.status_code == 201, ok.text


async def test_too_few_too_many_and_repeated_options_are_refused(client, container):
    _, dosa, _ = await dosa_menu(client, container)
    me = await login_customer(client, container)
    plain, masala = option_id(dosa, "Filling", "Plain"), option_id(dosa, "Filling", "Masala")
    chutney, butter, podi = (option_id(dosa, "Extras", n) for n in ("Chutney", "Butter", "Podi"))
    before = await order_state(container)
    req = body(
        line(dosa, 1),  # the required filling is missing
        line(dosa, 1, plain, masala),  # two fillings in a single-choice group
        line(dosa, 1, plain, chutney, butter, podi),  # three extras, at most two
        line(dosa, 1, plain, butter, butter),  # the same option twice
    )
    err = assert_error(await place(client, me, req), 400, "VALIDATION_ERROR")
    group = {g["name"]: g["id"] for g in dosa["option_groups"]}
    assert err["details"] == [
        {
            "field": "items.0.options",
            "issue": "too_few_options",
            "message": "Dosa: choose Filling",
            "min_select": 1,
            "menu_item_id": dosa["id"],
            "name": "Dosa",
            "group_id": group["Filling"],
            "group": "Filling",
            "chosen": 0,
        },
        {
            "field": "items.1.options",
            "issue": "too_many_options",
            "message": "Dosa: choose at most 1 from Filling",
            "max_select": 1,
            "menu_item_id": dosa["id"],
            "name": "Dosa",
            "group_id": group["Filling"],
            "group": "Filling",
            "chosen": 2,
        },
        {
            "field": "items.2.options",
            "issue": "too_many_options",
            "message": "Dosa: choose at most 2 from Extras",
            "max_select": 2,
            "menu_item_id": dosa["id"],
            "name": "Dosa",
            "group_id": group["Extras"],
            "group": "Extras",
            "chosen": 3,
        },
        {
            "field": "items.3.options",
            "issue": "duplicate_option",
            "message": "The same option is chosen twice",
            "menu_item_id": dosa["id"],
            "option_id": butter,
        },
    ]
    assert await order_state(container) == before


async def test_seen_prices_include_the_options(client, container):
    _, dosa, _ = await dosa_menu(client, container)
    me = await login_customer(client, container)
    cheese = option_id(dosa, "Filling", "Cheese")
    before = await order_state(container)
    # The student saw the dish's base price only: the server's price includes the cheese.
    req = body(line(dosa, 2, cheese, unit_price=4500), expected_total=9000)
    err = assert_error(await place(client, me, req), 409, "PRICE_CHANGED")
    assert err["message"] == "Prices have changed since you looked; the total is now ₹150"
    assert err["details"] == [
        {
            "menu_item_id": dosa["id"],
            "name": "Dosa",
            "reason": "price_changed",
            "old_price": 4500,
            "new_price": 7500,
        },
        {
            "field": "expected_total",
            "reason": "total_changed",
            "old_total": 9000,
            "new_total": 15000,
        },
    ]
    assert await order_state(container) == before


async def test_replay_with_options_is_the_same_order(client, container):
    _, dosa, _ = await dosa_menu(client, container)
    me = await login_customer(client, container)
    masala, cheese = option_id(dosa, "Filling", "Masala"), option_id(dosa, "Filling", "Cheese")
    key = str(uuid.uuid4())
    first = await place(client, me, body(line(dosa, 1, masala)), key)
    assert first.status_code == 201, first.text
    again = await place(client, me, body(line(dosa, 1, masala)), key)
    assert again.status_code == 200
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert again.json()["data"]["items"] == first.json()["data"]["items"]
    # Other options with the same key are another request: refused, nothing added.
    before = await order_state(container)
    other = await place(client, me, body(line(dosa, 1, cheese)), key)
    assert_error(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert await order_state(container) == before
