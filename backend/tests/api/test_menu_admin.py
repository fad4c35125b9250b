"""Menu administration: categories, items, time slots, availability, stock; roles; every
bad input answered with the error contract and nothing written."""

from __future__ import annotations

import uuid

import pytest
from menu_support import (
    admin_session,
    counts,
    delivery_session,
    events,
    item_body,
    kitchen_session,
    make_category,
    make_item,
    make_slots,
    small_menu,
)

from canteen.menu.models import MenuItem
from conftest import API, assert_error, bearer, login_customer

ADMIN_ROUTES = [
    ("GET", "/admin/menu/categories"),
    ("POST", "/admin/menu/categories"),
    ("PATCH", "/admin/menu/categories/{id}"),
    ("DELETE", "/admin/menu/categories/{id}"),
    ("GET", "/admin/menu/items"),
    ("GET", "/admin/menu/items/{id}"),
    ("POST", "/admin/menu/items"),
    ("PATCH", "/admin/menu/items/{id}"),
    ("DELETE", "/admin/menu/items/{id}"),
    ("POST", "/admin/menu/items/{id}/image"),
    ("DELETE", "/admin/menu/items/{id}/image"),
    ("POST", "/admin/menu/stock/reset"),
    ("GET", "/admin/time-slots"),
    ("POST", "/admin/time-slots"),
    ("PATCH", "/admin/time-slots/{id}"),
    ("DELETE", "/admin/time-slots/{id}"),
    ("GET", "/admin/config"),
    ("PATCH", "/admin/config"),
]


async def test_admin_routes_refuse_everyone_but_admins(client, container):
    m = await small_menu(client, container)
    customer = await login_customer(client, container)
    kitchen = await kitchen_session(client, container)
    delivery = await delivery_session(client, container)
    before = await counts(container)
    for method, path in ADMIN_ROUTES:
        url = f"{API}{path.format(id=m.dosa['id'])}"
        r = await client.request(method, url, json={"name": "x"})
        assert_error(r, 401, "INVALID_TOKEN")
        for session in (customer, kitchen, delivery):
            r = await client.request(method, url, json={"name": "x"}, headers=bearer(session))
            err = assert_error(r, 403, "INSUFFICIENT_ROLE")
            assert err["details"][0]["required_roles"] == ["admin"]
    assert await counts(container) == before


async def test_availability_is_for_kitchen_and_admin_only(client, container):
    m = await small_menu(client, container)
    url = f"{API}/admin/menu/items/{m.dosa['id']}/availability"
    customer = await login_customer(client, container)
    delivery = await delivery_session(client, container)
    before = await counts(container)
    assert_error(await client.patch(url, json={"is_available": False}), 401, "INVALID_TOKEN")
    for session in (customer, delivery):
        r = await client.patch(url, json={"is_available": False}, headers=bearer(session))
        assert_error(r, 403, "INSUFFICIENT_ROLE")
    assert await counts(container) == before

    kitchen = await kitchen_session(client, container)
    r = await client.patch(url, json={"is_available": False}, headers=bearer(kitchen))
    assert r.status_code == 200
    assert r.json()["data"]["is_available"] is False and r.json()["data"]["sold_out"] is True
    [event] = [e for e in await events(container, "menu.updated") if e.actor_id is not None][-1:]
    assert event.data["action"] == "availability_changed"
    assert event.data["id"] == m.dosa["id"] and event.data["is_available"] is False
    assert str(event.actor_id) == kitchen["user"]["id"]
    # The same value again changes nothing and records nothing.
    n = len(await events(container))
    r = await client.patch(url, json={"is_available": False}, headers=bearer(kitchen))
    assert r.status_code == 200 and len(await events(container)) == n
    r = await client.patch(url, json={"is_available": True}, headers=bearer(m.admin))
    assert r.status_code == 200 and r.json()["data"]["sold_out"] is False


# ---- categories ----------------------------------------------------------------------


async def test_category_crud_records_events(client, container):
    admin = await admin_session(client, container)
    h = bearer(admin)
    r = await client.post(
        f"{API}/admin/menu/categories", json={"name": "  Chaat  ", "sort_order": 4}, headers=h
    )
    assert r.status_code == 201
    cat = r.json()["data"]
    assert cat["name"] == "Chaat" and cat["sort_order"] == 4 and cat["is_active"] is True
    r = await client.patch(
        f"{API}/admin/menu/categories/{cat['id']}",
        json={"name": "Street Chaat", "is_active": False},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["data"]["name"] == "Street Chaat"
    r = await client.get(f"{API}/admin/menu/categories", headers=h)
    assert [c["is_active"] for c in r.json()["data"]] == [False]  # admins see inactive ones
    r = await client.delete(f"{API}/admin/menu/categories/{cat['id']}", headers=h)
    assert r.status_code == 204 and r.content == b""
    assert (await counts(container))["categories"] == 0
    menu_events = await events(container, "menu.updated")
    assert [(e.data["entity"], e.data["action"]) for e in menu_events] == [
        ("category", "created"),
        ("category", "updated"),
        ("category", "deleted"),
    ]
    assert menu_events[1].data["changes"] == ["name", "is_active"]
    assert all(str(e.actor_id) == admin["user"]["id"] for e in menu_events)
    versions = [e.data["menu_version"] for e in menu_events]
    assert versions == sorted(versions) and len(set(versions)) == 3


async def test_category_with_items_cannot_be_deleted(client, container):
    m = await small_menu(client, container)
    before = await counts(container)
    r = await client.delete(f"{API}/admin/menu/categories/{m.south}", headers=bearer(m.admin))
    err = assert_error(r, 409, "CATEGORY_NOT_EMPTY")
    assert err["details"][0]["items"] == 4
    assert await counts(container) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "Ok", "sort_order": "first"}, "sort_order"),
        ({"name": "Ok", "is_active": "perhaps"}, "is_active"),
    ],
)
async def test_bad_category_input(client, container, body, field):
    admin = await admin_session(client, container)
    before = await counts(container)
    r = await client.post(f"{API}/admin/menu/categories", json=body, headers=bearer(admin))
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in err["details"]] == [field]
    assert await counts(container) == before


async def test_category_patch_refuses_null_and_unknown_ids(client, container):
    m = await small_menu(client, container)
    h = bearer(m.admin)
    before = await counts(container)
    r = await client.patch(f"{API}/admin/menu/categories/{m.south}", json={"name": None}, headers=h)
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "name"
    for method in ("PATCH", "DELETE"):
        r = await client.request(
            method, f"{API}/admin/menu/categories/{uuid.uuid4()}", json={"name": "x"}, headers=h
        )
        assert_error(r, 404, "NOT_FOUND")
    assert await counts(container) == before


# ---- time slots ----------------------------------------------------------------------


async def test_time_slot_crud_records_menu_and_config_events(client, container):
    admin = await admin_session(client, container)
    h = bearer(admin)
    body = {"code": "Late_Night", "label": "Late night", "start_time": "22:00",
            "end_time": "23:30:00", "sort_order": 9}  # fmt: skip
    r = await client.post(f"{API}/admin/time-slots", json=body, headers=h)
    assert r.status_code == 201, r.text
    slot = r.json()["data"]
    assert slot["code"] == "late_night"
    assert (slot["start_time"], slot["end_time"]) == ("22:00:00", "23:30:00")
    assert slot["is_active"] is True
    r = await client.patch(
        f"{API}/admin/time-slots/{slot['id']}", json={"end_time": "23:59"}, headers=h
    )
    assert r.status_code == 200 and r.json()["data"]["end_time"] == "23:59:00"
    r = await client.get(f"{API}/admin/time-slots", headers=h)
    assert [s["code"] for s in r.json()["data"]] == ["late_night"]
    r = await client.delete(f"{API}/admin/time-slots/{slot['id']}", headers=h)
    assert r.status_code == 204
    assert [(e.type, e.data["action"], e.data["code"]) for e in await events(container)] == [
        ("menu.updated", "created", "late_night"),
        ("config.updated", "created", "late_night"),
        ("menu.updated", "updated", "late_night"),
        ("config.updated", "updated", "late_night"),
        ("menu.updated", "deleted", "late_night"),
        ("config.updated", "deleted", "late_night"),
    ]


@pytest.mark.parametrize(
    ("body", "field", "issue"),
    [
        ({"start_time": "12:00", "end_time": "12:00"}, "end_time", "end_not_after_start"),
        ({"start_time": "15:00", "end_time": "12:00"}, "end_time", "end_not_after_start"),
        ({"start_time": "22:00", "end_time": "02:00"}, "end_time", "end_not_after_start"),
        ({"start_time": "25:00"}, "start_time", "time_parsing"),
        ({"start_time": "12:00+05:30"}, "start_time", "value_error"),
        ({"code": "current"}, "code", "value_error"),
        ({"code": "9am"}, "code", "string_pattern_mismatch"),
        ({"code": "has space"}, "code", "string_pattern_mismatch"),
        ({"label": ""}, "label", "string_too_short"),
    ],
)
async def test_bad_time_slot_input(client, container, body, field, issue):
    admin = await admin_session(client, container)
    before = await counts(container)
    full = {"code": "brunch", "label": "Brunch", "start_time": "10:00", "end_time": "12:00"}
    r = await client.post(f"{API}/admin/time-slots", json={**full, **body}, headers=bearer(admin))
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [(d["field"], d["issue"]) for d in err["details"]] == [(field, issue)]
    assert await counts(container) == before


async def test_time_slot_update_checks_the_window_it_would_leave(client, container):
    m = await small_menu(client, container)
    h = bearer(m.admin)
    before = await counts(container)
    url = f"{API}/admin/time-slots/{m.slots['lunch']}"
    r = await client.patch(url, json={"start_time": "15:00"}, headers=h)  # lunch ends at 15:00
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "end_time"
    r = await client.patch(url, json={"label": None}, headers=h)
    assert_error(r, 400, "VALIDATION_ERROR")
    r = await client.patch(url, json={"code": "dinner"}, headers=h)
    err = assert_error(r, 409, "TIME_SLOT_CODE_TAKEN")
    assert err["details"][0]["field"] == "code"
    r = await client.patch(f"{API}/admin/time-slots/{uuid.uuid4()}", json={"label": "x"}, headers=h)
    assert_error(r, 404, "NOT_FOUND")
    r = await client.delete(f"{API}/admin/time-slots/{uuid.uuid4()}", headers=h)
    assert_error(r, 404, "NOT_FOUND")
    assert await counts(container) == before


async def test_duplicate_slot_code_is_a_conflict(client, container):
    admin = await admin_session(client, container)
    await make_slots(client, admin)
    before = await counts(container)
    body = {"code": "lunch", "label": "Second lunch", "start_time": "13:00", "end_time": "14:00"}
    r = await client.post(f"{API}/admin/time-slots", json=body, headers=bearer(admin))
    assert_error(r, 409, "TIME_SLOT_CODE_TAKEN")
    assert await counts(container) == before


async def test_slot_in_use_cannot_be_deleted(client, container):
    m = await small_menu(client, container)
    before = await counts(container)
    r = await client.delete(f"{API}/admin/time-slots/{m.slots['snacks']}", headers=bearer(m.admin))
    err = assert_error(r, 409, "TIME_SLOT_IN_USE")
    assert {d["name"] for d in err["details"]} == {"Bread Omelette", "Masala Chai", "Sweet Lassi"}
    assert await counts(container) == before


# ---- items ---------------------------------------------------------------------------


async def test_item_crud(client, container):
    admin = await admin_session(client, container)
    h = bearer(admin)
    await make_slots(client, admin)
    cat = await make_category(client, admin, "Rice")
    other = await make_category(client, admin, "Mains")
    body = item_body(
        cat, " Egg Biryani ", price=12500, diet="egg", allergens=["egg", "dairy", "egg"],
        time_slots=["dinner", "lunch", "lunch"], daily_stock=30, prep_minutes=15,
    )  # fmt: skip
    r = await client.post(f"{API}/admin/menu/items", json=body, headers=h)
    assert r.status_code == 201, r.text
    item = r.json()["data"]
    assert item["name"] == "Egg Biryani"
    assert item["allergens"] == ["dairy", "egg"]  # unique, in the fixed list's order
    assert item["time_slots"] == ["lunch", "dinner"]  # serving order
    assert (item["daily_stock"], item["stock_remaining"]) == (30, 30)
    assert item["is_available"] is True and item["sold_out"] is False
    assert item["image_url"] is None and item["thumbnail_url"] is None

    url = f"{API}/admin/menu/items/{item['id']}"
    async with container.sessionmaker() as s, s.begin():  # orders took some today
        row = await s.get(MenuItem, uuid.UUID(item["id"]))
        row.stock_remaining = 4
    r = await client.patch(
        url,
        json={"category_id": other, "price": 13000, "time_slots": ["dinner"],
              "description": "", "daily_stock": 40, "sort_order": 2},
        headers=h,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    got = r.json()["data"]
    assert got["category_id"] == other and got["price"] == 13000
    assert got["time_slots"] == ["dinner"] and got["description"] is None
    assert (got["daily_stock"], got["stock_remaining"]) == (40, 40)  # setting it refills
    r = await client.patch(url, json={"daily_stock": None}, headers=h)
    assert (r.json()["data"]["daily_stock"], r.json()["data"]["stock_remaining"]) == (None, None)
    r = await client.get(url, headers=h)
    assert r.status_code == 200 and r.json()["data"]["price"] == 13000
    r = await client.delete(url, headers=h)
    assert r.status_code == 204
    assert (await counts(container))["items"] == 0
    assert (await counts(container))["item_slots"] == 0
    acts = [
        (e.data["entity"], e.data["action"])
        for e in await events(container, "menu.updated")
        if e.data["entity"] == "item"
    ]
    assert acts == [("item", "created"), ("item", "updated"), ("item", "updated"),
                    ("item", "deleted")]  # fmt: skip
    updated = [e for e in await events(container, "menu.updated") if e.data["action"] == "updated"]
    assert set(updated[-2].data["changes"]) == {
        "category_id", "price", "time_slots", "description", "daily_stock", "stock_remaining",
        "sort_order",
    }  # fmt: skip


async def test_admin_item_list_includes_hidden_categories(client, container):
    m = await small_menu(client, container)
    r = await client.get(f"{API}/admin/menu/items", headers=bearer(m.admin))
    assert r.status_code == 200
    assert "Staff Thali" in [i["name"] for i in r.json()["data"]]
    assert r.json()["meta"]["total"] == 7
    r = await client.get(f"{API}/admin/menu/items", params={"per_page": 2}, headers=bearer(m.admin))
    assert len(r.json()["data"]) == 2 and r.json()["meta"] == {"page": 1, "per_page": 2, "total": 7}


@pytest.mark.parametrize(
    ("change", "details"),
    [
        ({"price": 0}, [("price", "greater_than")]),
        ({"price": -500}, [("price", "greater_than")]),
        ({"price": 12.5}, [("price", "int_from_float")]),
        ({"price": "cheap"}, [("price", "int_parsing")]),
        ({"price": 10_000_01}, [("price", "less_than_equal")]),
        ({"category_id": "UNKNOWN"}, [("category_id", "unknown_category")]),
        ({"time_slots": ["lunch", "brunch"]}, [("time_slots", "unknown_time_slot")]),
        ({"time_slots": []}, [("time_slots", "required")]),
        ({"allergens": ["gluten", "fish"]}, [("allergens.1", "enum")]),
        ({"diet": "vegan"}, [("diet", "enum")]),
        ({"name": " "}, [("name", "string_too_short")]),
        ({"prep_minutes": -1}, [("prep_minutes", "greater_than_equal")]),
        ({"daily_stock": -3}, [("daily_stock", "greater_than_equal")]),
        (
            {"category_id": "UNKNOWN", "time_slots": ["brunch"]},
            [("category_id", "unknown_category"), ("time_slots", "unknown_time_slot")],
        ),
    ],
)
async def test_bad_item_input_on_create(client, container, change, details):
    m = await small_menu(client, container)
    if change.get("category_id") == "UNKNOWN":
        change = {**change, "category_id": str(uuid.uuid4())}
    body = {**item_body(m.south, "Upma"), **change}
    if "time_slots" not in change:
        body["time_slots"] = ["breakfast"]
    before = await counts(container)
    r = await client.post(f"{API}/admin/menu/items", json=body, headers=bearer(m.admin))
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [(d["field"], d["issue"]) for d in err["details"]] == details
    assert all(d["message"] for d in err["details"])
    assert await counts(container) == before


async def test_item_needs_a_slot_list(client, container):
    m = await small_menu(client, container)
    body = item_body(m.south, "Upma")
    del body["time_slots"]
    before = await counts(container)
    r = await client.post(f"{API}/admin/menu/items", json=body, headers=bearer(m.admin))
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in err["details"]] == ["time_slots"]
    assert await counts(container) == before


@pytest.mark.parametrize(
    ("change", "field", "issue"),
    [
        ({"price": 0}, "price", "greater_than"),
        ({"price": None}, "price", "value_error"),
        ({"name": None}, "name", "value_error"),
        ({"time_slots": []}, "time_slots", "required"),
        ({"time_slots": None}, "time_slots", "value_error"),
        ({"time_slots": ["teatime"]}, "time_slots", "unknown_time_slot"),
        ({"category_id": "UNKNOWN"}, "category_id", "unknown_category"),
        ({"allergens": ["shellfish", "wheat"]}, "allergens.1", "enum"),
        ({"is_available": None}, "is_available", "value_error"),
    ],
)
async def test_bad_item_input_on_update(client, container, change, field, issue):
    m = await small_menu(client, container)
    if change.get("category_id") == "UNKNOWN":
        change = {"category_id": str(uuid.uuid4())}
    before = await counts(container)
    r = await client.patch(
        f"{API}/admin/menu/items/{m.dosa['id']}", json=change, headers=bearer(m.admin)
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [(d["field"], d["issue"]) for d in err["details"]] == [(field, issue)]
    assert await counts(container) == before


async def test_unknown_item_ids_are_404(client, container):
    m = await small_menu(client, container)
    kitchen = await kitchen_session(client, container)
    before = await counts(container)
    missing = uuid.uuid4()
    for method, path, body, session in (
        ("GET", f"/admin/menu/items/{missing}", None, m.admin),
        ("PATCH", f"/admin/menu/items/{missing}", {"price": 100}, m.admin),
        ("DELETE", f"/admin/menu/items/{missing}", None, m.admin),
        ("DELETE", f"/admin/menu/items/{missing}/image", None, m.admin),
        ("PATCH", f"/admin/menu/items/{missing}/availability", {"is_available": False}, kitchen),
    ):
        r = await client.request(method, f"{API}{path}", json=body, headers=bearer(session))
        assert_error(r, 404, "NOT_FOUND")
    r = await client.patch(
        f"{API}/admin/menu/items/not-an-id", json={"price": 100}, headers=bearer(m.admin)
    )
    assert_error(r, 400, "VALIDATION_ERROR")
    r = await client.patch(
        f"{API}/admin/menu/items/{m.dosa['id']}/availability", json={}, headers=bearer(kitchen)
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "is_available"
    assert await counts(container) == before


async def test_daily_stock_reset(client, container):
    m = await small_menu(client, container)
    h = bearer(m.admin)
    async with container.sessionmaker() as s, s.begin():
        row = await s.get(MenuItem, uuid.UUID(m.biryani["id"]))
        row.stock_remaining = 3
    n = len(await events(container))
    r = await client.post(f"{API}/admin/menu/stock/reset", headers=h)
    assert r.status_code == 200 and r.json()["data"] == {"items_refilled": 1}
    r = await client.get(f"{API}/menu/items/{m.biryani['id']}")
    assert r.json()["data"]["stock_remaining"] == 20
    assert [e.data["action"] for e in (await events(container))[n:]] == ["stock_reset"]
    # Nothing to refill: nothing written.
    before = await counts(container)
    r = await client.post(f"{API}/admin/menu/stock/reset", headers=h)
    assert r.json()["data"] == {"items_refilled": 0}
    assert await counts(container) == before


async def test_item_in_an_inactive_slot_stays_listed_and_is_reachable(client, container):
    admin = await admin_session(client, container)
    slots = await make_slots(client, admin)
    cat = await make_category(client, admin, "Mains")
    await make_item(client, admin, cat, "Thali", time_slots=["dinner"])
    r = await client.patch(
        f"{API}/admin/time-slots/{slots['dinner']}", json={"is_active": False},
        headers=bearer(admin),
    )  # fmt: skip
    assert r.status_code == 200
    r = await client.get(f"{API}/menu/items", params={"time_slot": "dinner"})
    assert [i["name"] for i in r.json()["data"]] == ["Thali"]
