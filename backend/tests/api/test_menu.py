"""Public menu reads: categories, items, filters, item detail, ETags and 304s, demo data."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from menu_support import (
    bearer_now,
    counts,
    etag,
    kitchen_session,
    set_local_time,
    small_menu,
)
from sqlalchemy import create_engine, text

from canteen.app import create_app
from canteen.bootstrap import build_container
from canteen.demo.seed import seed_demo
from canteen.menu import service as menu
from canteen.menu.models import Allergen, Category, MenuItem, TimeSlot
from conftest import API, BACKEND, assert_error, bearer, count_rows

ITEM_KEYS = {
    "id",
    "category_id",
    "name",
    "description",
    "price",
    "diet",
    "allergens",
    "image_url",
    "thumbnail_url",
    "is_available",
    "sold_out",
    "stock_remaining",
    "daily_stock",
    "time_slots",
    "prep_minutes",
    "sort_order",
    "option_groups",  # [] for a dish without options (issue 16)
    "station_id",  # null while the canteen has no stations (issue 17)
}


def names(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [i["name"] for i in r.json()["data"]]


async def test_categories_are_the_active_ones_in_order(client, container):
    m = await small_menu(client, container)
    r = await client.get(f"{API}/menu/categories")
    assert r.status_code == 200
    body = r.json()
    assert [c["name"] for c in body["data"]] == ["South Indian", "Beverages"]
    assert body["data"][0] == {
        "id": m.south,
        "name": "South Indian",
        "sort_order": 1,
        "is_active": True,
    }
    assert body["meta"] == {"page": 1, "per_page": 500, "total": 2}
    assert r.headers["content-type"] == "application/json"


async def test_items_list_the_whole_public_menu_in_display_order(client, container):
    m = await small_menu(client, container)
    r = await client.get(f"{API}/menu/items")
    assert names(r) == [
        "Idli Sambar",
        "Masala Dosa",
        "Chicken Biryani",
        "Bread Omelette",
        "Masala Chai",
        "Sweet Lassi",
    ]  # the inactive category's item is not on the menu
    assert r.json()["meta"] == {"page": 1, "per_page": 500, "total": 6}
    by_name = {i["name"]: i for i in r.json()["data"]}
    assert set(by_name["Chicken Biryani"]) == ITEM_KEYS
    assert by_name["Chicken Biryani"] == {
        **m.biryani,
        "allergens": ["dairy", "nuts"],  # the fixed list's order
        "stock_remaining": 20,
        "daily_stock": 20,
        "sold_out": False,
    }
    assert by_name["Chicken Biryani"]["time_slots"] == ["lunch", "dinner"]
    assert by_name["Sweet Lassi"]["is_available"] is False
    assert by_name["Sweet Lassi"]["sold_out"] is True
    assert by_name["Masala Dosa"]["stock_remaining"] is None


async def test_pagination(client, container):
    await small_menu(client, container)
    r = await client.get(f"{API}/menu/items", params={"per_page": 4, "page": 2})
    assert names(r) == ["Masala Chai", "Sweet Lassi"]
    assert r.json()["meta"] == {"page": 2, "per_page": 4, "total": 6}
    r = await client.get(f"{API}/menu/items", params={"per_page": 4, "page": 3})
    assert names(r) == [] and r.json()["meta"]["total"] == 6


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"time_slot": "breakfast"}, ["Idli Sambar", "Masala Dosa", "Bread Omelette", "Masala Chai"]),
        ({"time_slot": "LUNCH"}, ["Masala Dosa", "Chicken Biryani", "Masala Chai", "Sweet Lassi"]),
        ({"diet": "egg"}, ["Bread Omelette"]),
        ({"diet": ["veg", "egg"]}, ["Idli Sambar", "Masala Dosa", "Bread Omelette", "Masala Chai", "Sweet Lassi"]),
        ({"diet": "non_veg"}, ["Chicken Biryani"]),
        ({"allergen_free": "dairy"}, ["Idli Sambar", "Bread Omelette"]),
        ({"allergen_free": ["dairy", "gluten"]}, ["Idli Sambar"]),
        ({"allergen_free": "sesame"}, ["Idli Sambar", "Masala Dosa", "Chicken Biryani", "Bread Omelette", "Masala Chai", "Sweet Lassi"]),
        ({"q": "masala"}, ["Masala Dosa", "Masala Chai"]),
        ({"q": "  DOSA "}, ["Masala Dosa"]),
        ({"q": "pizza"}, []),
        ({"available": "true"}, ["Idli Sambar", "Masala Dosa", "Chicken Biryani", "Bread Omelette", "Masala Chai"]),
        ({"available": "false"}, ["Sweet Lassi"]),
        ({"time_slot": "lunch", "allergen_free": "nuts", "available": "true"}, ["Masala Dosa", "Masala Chai"]),
        ({"time_slot": "", "q": ""}, ["Idli Sambar", "Masala Dosa", "Chicken Biryani", "Bread Omelette", "Masala Chai", "Sweet Lassi"]),
    ],
)  # fmt: skip
async def test_item_filters(client, container, params, expected):
    await small_menu(client, container)
    assert names(await client.get(f"{API}/menu/items", params=params)) == expected


async def test_category_filter(client, container):
    m = await small_menu(client, container)
    r = await client.get(f"{API}/menu/items", params={"category_id": m.drinks})
    assert names(r) == ["Masala Chai", "Sweet Lassi"]
    # An unknown or inactive category simply has nothing on the menu.
    for other in (str(uuid.uuid4()), m.hidden_category):
        r = await client.get(f"{API}/menu/items", params={"category_id": other})
        assert names(r) == []


async def test_current_time_slot_filter_follows_the_clock(client, container, clock):
    await small_menu(client, container)
    set_local_time(clock, "08:00")
    r = await client.get(f"{API}/menu/items", params={"time_slot": "current"})
    assert names(r) == ["Idli Sambar", "Masala Dosa", "Bread Omelette", "Masala Chai"]
    set_local_time(clock, "17:00")
    r = await client.get(f"{API}/menu/items", params={"time_slot": "current"})
    assert names(r) == ["Bread Omelette", "Masala Chai", "Sweet Lassi"]
    set_local_time(clock, "11:00")  # between breakfast and lunch: nothing is being served
    r = await client.get(f"{API}/menu/items", params={"time_slot": "current"})
    assert names(r) == [] and r.json()["meta"]["total"] == 0


async def test_a_sold_out_item_is_marked(client, container):
    m = await small_menu(client, container)
    async with container.sessionmaker() as s, s.begin():
        item = await s.get(MenuItem, uuid.UUID(m.biryani["id"]))
        item.stock_remaining = 0
        await menu.mark_menu_changed(s)
    r = await client.get(f"{API}/menu/items/{m.biryani['id']}")
    data = r.json()["data"]
    assert data["is_available"] is True and data["stock_remaining"] == 0 and data["sold_out"]
    r = await client.get(f"{API}/menu/items", params={"available": "true"})
    assert "Chicken Biryani" not in names(r)


@pytest.mark.parametrize(
    ("params", "field", "issue"),
    [
        ({"time_slot": "brunch"}, "time_slot", "unknown_time_slot"),
        ({"diet": "vegan"}, "diet.0", "enum"),
        ({"diet": ["veg", "jain"]}, "diet.1", "enum"),
        ({"allergen_free": "fish"}, "allergen_free.0", "enum"),
        ({"category_id": "not-a-uuid"}, "category_id", "uuid_parsing"),
        ({"available": "maybe"}, "available", "bool_parsing"),
        ({"per_page": "0"}, "per_page", "greater_than_equal"),
        ({"per_page": "501"}, "per_page", "less_than_equal"),
        ({"page": "x"}, "page", "int_parsing"),
        ({"q": "x" * 101}, "q", "string_too_long"),
    ],
)
async def test_bad_filters_are_validation_errors(client, container, params, field, issue):
    await small_menu(client, container)
    r = await client.get(f"{API}/menu/items", params=params)
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [(d["field"], d["issue"]) for d in err["details"]] == [(field, issue)]
    assert all(d["message"] for d in err["details"])
    assert "etag" not in r.headers


async def test_category_list_validates_paging(client, container):
    r = await client.get(f"{API}/menu/categories", params={"page": "0"})
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "page"


async def test_item_detail(client, container):
    m = await small_menu(client, container)
    r = await client.get(f"{API}/menu/items/{m.dosa['id']}")
    assert r.status_code == 200
    assert r.json() == {"data": m.dosa}
    assert r.headers["etag"].startswith('"')
    r304 = await client.get(
        f"{API}/menu/items/{m.dosa['id']}", headers={"If-None-Match": r.headers["etag"]}
    )
    assert r304.status_code == 304 and r304.content == b""


async def test_item_detail_unknown_or_hidden_is_404(client, container):
    m = await small_menu(client, container)
    for item_id in (str(uuid.uuid4()), m.secret["id"]):
        r = await client.get(f"{API}/menu/items/{item_id}")
        assert_error(r, 404, "NOT_FOUND")
    r = await client.get(f"{API}/menu/items/not-a-uuid")
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "item_id"


# ---- ETags ---------------------------------------------------------------------------


async def test_etag_200_then_304(client, container):
    await small_menu(client, container)
    for path in ("/menu/items", "/menu/categories"):
        r = await client.get(f"{API}{path}")
        tag = r.headers["etag"]
        assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
        assert r.headers["cache-control"] == "no-cache"
        r2 = await client.get(f"{API}{path}", headers={"If-None-Match": tag})
        assert r2.status_code == 304
        assert r2.content == b""
        assert r2.headers["etag"] == tag
        assert r2.headers["cache-control"] == "no-cache"
        assert "content-type" not in r2.headers
        # Asking again without the tag gives the same bytes.
        r3 = await client.get(f"{API}{path}")
        assert r3.content == r.content and r3.headers["etag"] == tag


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("{tag}", 304),
        ('"other", {tag}', 304),
        ('"a","b",{tag}', 304),
        ("W/{tag}", 304),  # If-None-Match uses the weak comparison
        ("*", 304),
        ('"other"', 200),
        ('W/"other"', 200),
        ("", 200),
        ("{tag_unquoted}", 200),
    ],
)
async def test_if_none_match_forms(client, container, header, status):
    await small_menu(client, container)
    tag = await etag(client, "/menu/items")
    value = header.format(tag=tag, tag_unquoted=tag.strip('"'))
    r = await client.get(f"{API}/menu/items", headers={"If-None-Match": value})
    assert r.status_code == status
    assert r.headers["etag"] == tag


async def test_etags_differ_by_query_and_match_equivalent_queries(client, container):
    await small_menu(client, container)
    full = await etag(client, "/menu/items")
    lunch = await etag(client, "/menu/items", time_slot="lunch")
    assert full != lunch
    assert await etag(client, "/menu/items", time_slot="Lunch") == lunch
    r = await client.get(f"{API}/menu/items?diet=veg&diet=egg")
    r2 = await client.get(f"{API}/menu/items?diet=egg&diet=veg")
    assert r.headers["etag"] == r2.headers["etag"] and r.content == r2.content


async def _tags(client, item_id: str) -> dict[str, str]:
    return {
        "items": await etag(client, "/menu/items"),
        "categories": await etag(client, "/menu/categories"),
        "item": await etag(client, f"/menu/items/{item_id}"),
        "lunch": await etag(client, "/menu/items", time_slot="lunch"),
    }


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {k for k in before if before[k] != after[k]}


async def test_etag_changes_with_each_kind_of_menu_change_and_only_then(client, container):
    m = await small_menu(client, container)
    h = bearer(m.admin)
    dosa = m.dosa["id"]

    async def step(method: str, path: str, body: object = None) -> set[str]:
        before = await _tags(client, dosa)
        r = await client.request(method, f"{API}{path}", json=body, headers=h)
        assert r.status_code in (200, 201, 204), r.text
        return changed(before, await _tags(client, dosa))

    # Categories: a new empty one shows only in the category list.
    assert await step("POST", "/admin/menu/categories", {"name": "Desserts"}) == {"categories"}
    # A rename: items don't show category names.
    path = f"/admin/menu/categories/{m.drinks}"
    assert await step("PATCH", path, {"name": "Drinks"}) == {"categories"}
    # Deactivating a category takes its items off the menu.
    assert await step("PATCH", path, {"is_active": False}) == {"categories", "items", "lunch"}
    assert await step("PATCH", path, {"is_active": True}) == {"categories", "items", "lunch"}
    # Items.
    assert await step("PATCH", f"/admin/menu/items/{dosa}", {"price": 6500}) == {
        "items",
        "item",
        "lunch",
    }
    idli = f"/admin/menu/items/{m.idli['id']}"
    assert await step("PATCH", idli, {"description": "Soft idlis"}) == {"items"}  # not at lunch
    body = {"category_id": m.south, "name": "Rava Dosa", "price": 5500, "diet": "veg",
            "time_slots": ["dinner"]}  # fmt: skip
    assert await step("POST", "/admin/menu/items", body) == {"items"}
    assert await step("DELETE", idli) == {"items"}
    # The kitchen's availability switch.
    kitchen = await kitchen_session(client, container)
    before = await _tags(client, dosa)
    r = await client.patch(
        f"{API}/admin/menu/items/{dosa}/availability",
        json={"is_available": False},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200
    assert changed(before, await _tags(client, dosa)) == {"items", "item", "lunch"}
    # Time slots: items show slot codes, not labels or times.
    slot = f"/admin/time-slots/{m.slots['lunch']}"
    assert await step("PATCH", slot, {"label": "Lunch (main hall)"}) == set()
    assert await step("PATCH", slot, {"end_time": "15:30"}) == set()
    # Settings are not part of the menu.
    assert await step("PATCH", "/admin/config", {"delivery_fee": 3500}) == set()
    # A change that changes nothing (same values) moves nothing.
    assert await step("PATCH", f"/admin/menu/items/{dosa}", {"price": 6500}) == set()


async def test_etag_changes_when_an_order_takes_stock(client, container):
    m = await small_menu(client, container)
    before = await _tags(client, m.biryani["id"])
    async with container.sessionmaker() as s, s.begin():  # what order placement does
        item = await s.get(MenuItem, uuid.UUID(m.biryani["id"]))
        item.stock_remaining = 17
        await menu.mark_menu_changed(s)
    after = await _tags(client, m.biryani["id"])
    assert changed(before, after) == {"items", "item", "lunch"}
    r = await client.get(f"{API}/menu/items/{m.biryani['id']}")
    assert r.json()["data"]["stock_remaining"] == 17


async def test_current_slot_etag_follows_the_clock_and_the_slot_config(client, container, clock):
    m = await small_menu(client, container)
    set_local_time(clock, "13:00")
    lunch = await etag(client, "/menu/items", time_slot="current")
    full = await etag(client, "/menu/items")
    set_local_time(clock, "14:00")
    assert await etag(client, "/menu/items", time_slot="current") == lunch  # still lunch
    set_local_time(clock, "16:30")
    snacks = await etag(client, "/menu/items", time_slot="current")
    assert snacks != lunch
    assert await etag(client, "/menu/items") == full  # the full menu doesn't depend on time
    # The admin moves snacks to start at 17:00: at 16:30 nothing is served any more.
    r = await client.patch(
        f"{API}/admin/time-slots/{m.slots['snacks']}",
        json={"start_time": "17:00"},
        headers=bearer_now(container, m.admin),
    )
    assert r.status_code == 200
    none_now = await etag(client, "/menu/items", time_slot="current")
    assert none_now not in (lunch, snacks)
    assert names(await client.get(f"{API}/menu/items", params={"time_slot": "current"})) == []
    # Deactivating a slot takes it out of "current" too.
    set_local_time(clock, "13:00")
    assert await etag(client, "/menu/items", time_slot="current") == lunch
    r = await client.patch(
        f"{API}/admin/time-slots/{m.slots['lunch']}",
        json={"is_active": False},
        headers=bearer_now(container, m.admin),
    )
    assert r.status_code == 200
    assert await etag(client, "/menu/items", time_slot="current") == none_now
    assert await etag(client, "/menu/items") == full


async def test_tags_agree_across_api_processes_and_changes_reach_them(client, container, app):
    """A second container/app on the same database plays another API process."""
    m = await small_menu(client, container)
    other = build_container(container.settings, clock=container.clock)
    other_app = create_app(container.settings, container=other)
    transport = httpx.ASGITransport(app=other_app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://o") as c2:
            first = await etag(client, "/menu/items")
            assert await etag(c2, "/menu/items") == first  # same bytes, same tag
            r = await client.patch(
                f"{API}/admin/menu/items/{m.chai['id']}", json={"price": 2000},
                headers=bearer(m.admin),
            )  # fmt: skip
            assert r.status_code == 200
            second = await etag(c2, "/menu/items")
            assert second != first
            assert second == await etag(client, "/menu/items")
            r = await c2.get(f"{API}/menu/items", headers={"If-None-Match": second})
            assert r.status_code == 304
    finally:
        await other.close()


async def test_a_change_no_process_announced_is_seen_within_the_max_age(client, container, clock):
    """Something that bumps the version without telling anyone (raw SQL, another tool)."""
    m = await small_menu(client, container)
    before = await etag(client, "/menu/items")
    url = container.settings.resolved_database_url
    engine = create_engine(url.replace("+asyncpg", "+psycopg").replace("+aiosqlite", ""))

    def change_behind_the_apps_back() -> None:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE menu_items SET price = 2500 WHERE id = :id"),
                {"id": uuid.UUID(m.chai["id"]) if BACKEND == "postgres" else m.chai["id"].replace("-", "")},
            )  # fmt: skip
            conn.execute(text("UPDATE canteen_config SET menu_version = menu_version + 1"))
        engine.dispose()

    # On a thread: on SQLite the app's dispatcher may be inside a transaction, holding the
    # database's write lock, and it can only finish it if the event loop keeps running.
    await asyncio.to_thread(change_behind_the_apps_back)
    clock.advance(container.settings.menu_cache_max_age + 0.1)
    after = await etag(client, "/menu/items")
    assert after != before
    r = await client.get(f"{API}/menu/items/{m.chai['id']}")
    assert r.json()["data"]["price"] == 2500


@pytest.mark.skipif(BACKEND != "postgres", reason="Redis pub/sub runs with Redis")
async def test_a_change_announced_on_redis_reaches_other_processes(client, container):
    import redis.asyncio as aredis

    from canteen.menu.invalidation import CHANNEL

    m = await small_menu(client, container)
    before = await etag(client, "/menu/items")
    url = container.settings.resolved_database_url
    engine = create_engine(url.replace("+asyncpg", "+psycopg"))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE menu_items SET price = 2600 WHERE id = :id"), {"id": m.chai["id"]}
        )
        conn.execute(text("UPDATE canteen_config SET menu_version = menu_version + 1"))
    engine.dispose()
    publisher = aredis.Redis.from_url(container.settings.redis_url)
    await publisher.publish(CHANNEL, container.menu_cache.key)
    await publisher.aclose()
    deadline = time.monotonic() + 5
    while await etag(client, "/menu/items") == before:
        assert time.monotonic() < deadline, "the announcement never invalidated the cache"
        await asyncio.sleep(0.02)


async def test_fast_path_and_routes_answer_the_same(client, container, app):
    m = await small_menu(client, container)
    plain = create_app(container.settings.model_copy(update={"menu_fast_path": False}),
                       container=container)  # fmt: skip
    transport = httpx.ASGITransport(app=plain)
    async with httpx.AsyncClient(transport=transport, base_url="http://p") as c2:
        for path, params in (
            ("/menu/items", {}),
            ("/menu/items", {"time_slot": "lunch", "diet": ["veg", "egg"]}),
            ("/menu/categories", {}),
            (f"/menu/items/{m.dosa['id']}", {}),
        ):
            fast = await client.get(f"{API}{path}", params=params, headers={"X-Request-ID": "r-1"})
            slow = await c2.get(f"{API}{path}", params=params, headers={"X-Request-ID": "r-2"})
            assert fast.status_code == slow.status_code == 200
            assert fast.content == slow.content
            assert fast.headers["etag"] == slow.headers["etag"]
            assert fast.headers["x-request-id"] == "r-1" and slow.headers["x-request-id"] == "r-2"
            r = await c2.get(
                f"{API}{path}", params=params, headers={"If-None-Match": fast.headers["etag"]}
            )
            assert r.status_code == 304
        # Errors are the same contract either way.
        for c in (client, c2):
            assert_error(await c.get(f"{API}/menu/items?diet=x"), 400, "VALIDATION_ERROR")
            assert_error(await c.get(f"{API}/menu/items/{uuid.uuid4()}"), 404, "NOT_FOUND")
    r = await client.get(f"{API}/menu/items", headers={"X-Request-ID": "bad id\twith tab"})
    uuid.UUID(r.headers["x-request-id"])


async def test_reads_write_nothing(client, container):
    await small_menu(client, container)
    before = await counts(container)
    for path in ("/menu/items", "/menu/categories", "/menu/items?time_slot=current"):
        assert (await client.get(f"{API}{path}")).status_code == 200
    assert await counts(container) == before


# ---- demo data -----------------------------------------------------------------------


async def test_demo_menu_is_a_full_canteen_and_seeding_is_idempotent(client, container):
    async with container.sessionmaker() as s, s.begin():
        await seed_demo(s)
    first = await counts(container)
    assert first["categories"] >= 6 and first["items"] >= 40
    async with container.sessionmaker() as s, s.begin():
        await seed_demo(s)
    assert await counts(container) == first

    r = await client.get(f"{API}/menu/items")
    items = r.json()["data"]
    assert len(items) == first["items"]
    for slot in ("breakfast", "lunch", "snacks", "dinner"):
        assert sum(slot in i["time_slots"] for i in items) >= 8, slot
    assert {i["diet"] for i in items} == {"veg", "egg", "non_veg"}
    assert all(i["price"] > 0 and i["price"] % 100 == 0 for i in items)
    allergens = {a for i in items for a in i["allergens"]}
    assert allergens <= {a.value for a in Allergen} and len(allergens) >= 6
    assert any(i["daily_stock"] for i in items)
    r = await client.get(f"{API}/menu/categories")
    assert len(r.json()["data"]) == first["categories"]
    assert await count_rows(container, TimeSlot) == 4
    assert await count_rows(container, Category) == first["categories"]
    # The demo staff accounts log in with the README's passwords.
    r = await client.post(
        f"{API}/auth/staff-login", json={"phone": "+919000000001", "password": "canteen-admin"}
    )
    assert r.status_code == 200 and r.json()["data"]["user"]["role"] == "admin"


async def test_cache_hits_are_counted_in_a_summary_log_line(client, container, caplog, monkeypatch):
    import logging

    from canteen.menu import fastpath

    await small_menu(client, container)
    tag = await etag(client, "/menu/items")
    monkeypatch.setattr(fastpath, "SUMMARY_EVERY", 0.0)
    caplog.clear()
    caplog.set_level(logging.INFO, logger="canteen.access")
    r = await client.get(f"{API}/menu/items", headers={"If-None-Match": tag})
    assert r.status_code == 304
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "canteen.access"]
    # One summary line (this one also counts the earlier 200), no per-request line.
    assert len(lines) == 1 and lines[0].startswith(
        "menu reads answered from cache: 1 (200) + 1 (304)"
    )
    # Errors still go through the routes and are logged one by one.
    caplog.clear()
    await client.get(f"{API}/menu/items?diet=x")
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "canteen.access"]
    assert lines == ["GET /api/v1/menu/items?diet=x 400"]
