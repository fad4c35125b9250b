"""The API side of the student journeys of issue #14: each test walks what a student met.

- a landline or impossible number is refused before any SMS or limit is spent (14.7);
- uploaded photos load from another origin (the app in a browser) and cache long (14.3);
- a price changed between cart and checkout is asked about, never charged silently (14.5);
- an order larger than the canteen takes is refused with the reason (14.10);
- "your order is ready" can also go by SMS when the canteen switches it on (14.12).
"""

from __future__ import annotations

import asyncio
import time
import uuid

from menu_support import image_bytes, small_menu
from orders_helpers import order_body, place, seed_menu, set_config
from sqlalchemy import select

from canteen.events.models import Event
from canteen.menu.models import MenuItem
from canteen.notifications.ready_sms import sms_order_ready
from canteen.orders.models import Order
from canteen.users.models import User
from conftest import (
    API,
    assert_error,
    bearer,
    count_rows,
    login_customer,
    login_staff,
    wait_for_otp,
)

LANDLINE = "5123456789"  # a valid Indian fixed-line number: it cannot receive a code


async def sms_to(client, phone: str) -> list[dict]:
    r = await client.get(f"{API}/dev/outbox", params={"channel": "sms", "to": phone})
    return r.json()["data"]


# ---- 14.7 phone numbers ----------------------------------------------------------------


async def test_a_landline_is_refused_before_any_sms_or_limit_is_spent(client, container):
    for _ in range(8):  # more than the per-phone hourly limit: none of them may count
        r = await client.post(f"{API}/auth/request-otp", json={"phone": LANDLINE})
        err = assert_error(r, 400, "VALIDATION_ERROR")
        assert err["details"] == [
            {
                "field": "phone",
                "issue": "invalid_phone",
                "message": "Not a mobile number; use a number that can receive SMS",
            }
        ]
    await container.jobs.drain()
    assert (await client.get(f"{API}/dev/outbox", params={"channel": "sms"})).json()["data"] == []
    assert await count_rows(container, User) == 0
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": LANDLINE, "otp": "123456"})
    assert_error(r, 400, "VALIDATION_ERROR")
    # A real mobile from the same network still signs in: no limit was spent.
    session = await login_customer(client, container, "+919876543210")
    assert session["user"]["role"] == "customer"


# ---- 14.3 photos -----------------------------------------------------------------------


async def test_photos_load_cross_origin_and_cache_for_a_year(client, container):
    m = await small_menu(client, container)
    r = await client.post(
        f"{API}/admin/menu/items/{m.dosa['id']}/image",
        files={"file": ("dosa.jpg", image_bytes("JPEG", (800, 600)), "image/jpeg")},
        headers=bearer(m.admin),
    )
    assert r.status_code == 200, r.text
    item = r.json()["data"]
    app_origin = {"Origin": "http://127.0.0.1:8550"}  # the student app in web mode
    for url in (item["image_url"], item["thumbnail_url"]):
        got = await client.get(url, headers=app_origin)
        assert got.status_code == 200
        assert got.headers["access-control-allow-origin"] == "*"
        assert got.headers["cross-origin-resource-policy"] == "cross-origin"
        assert got.headers["cache-control"] == "public, max-age=31536000, immutable"
        # A revalidation is answered 304 with the same headers.
        again = await client.get(url, headers={**app_origin, "If-None-Match": got.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["access-control-allow-origin"] == "*"


# ---- 14.5 price changed between cart and checkout --------------------------------------


async def _stock(container, item_id) -> int | None:
    async with container.sessionmaker() as s:
        return await s.scalar(select(MenuItem.stock_remaining).where(MenuItem.id == item_id))


async def test_a_changed_price_is_asked_about_and_nothing_is_placed(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    seen = {"dosa": 6000, "samosa": 2000}  # what the cart showed
    admin = await login_staff(client, container, "admin", "+919000000101")
    r = await client.patch(  # the manager raises the dosa to ₹65 meanwhile
        f"{API}/admin/menu/items/{m.dosa}", json={"price": 6500}, headers=bearer(admin)
    )
    assert r.status_code == 200, r.text
    body = order_body((m.dosa, 2), (m.samosa, 1), expected_total=2 * 6000 + 2000)
    body["items"][0]["unit_price"] = seen["dosa"]
    body["items"][1]["unit_price"] = seen["samosa"]
    events_before = await count_rows(container, Event)
    r = await place(client, me, body)
    err = assert_error(r, 409, "PRICE_CHANGED")
    assert "₹150" in err["message"]
    assert err["details"] == [
        {
            "menu_item_id": str(m.dosa),
            "name": "Masala Dosa",
            "reason": "price_changed",
            "old_price": 6000,
            "new_price": 6500,
        },
        {
            "field": "expected_total",
            "reason": "total_changed",
            "old_total": 14000,
            "new_total": 15000,
        },
    ]
    # Nothing created, no stock taken, no event.
    assert await count_rows(container, Order) == 0
    assert await _stock(container, m.samosa) == 10
    assert await count_rows(container, Event) == events_before

    # The student agrees to the new total: the same cart with the new prices goes through.
    body["items"][0]["unit_price"] = 6500
    body["expected_total"] = 15000
    r = await place(client, me, body)
    assert r.status_code == 201, r.text
    assert r.json()["data"]["total"] == 15000


async def test_a_changed_delivery_fee_alone_is_a_changed_total(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    await set_config(container, delivery_fee=3000)
    body = order_body(
        (m.chai, 1),
        order_type="delivery",
        delivery_address="Hostel 4, Room 112",
        expected_total=1500 + 2000,
    )
    err = assert_error(await place(client, me, body), 409, "PRICE_CHANGED")
    assert err["details"] == [
        {"field": "expected_total", "reason": "total_changed", "old_total": 3500, "new_total": 4500}
    ]
    assert await count_rows(container, Order) == 0


async def test_orders_without_the_seen_prices_keep_the_server_price(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    r = await place(client, me, order_body((m.dosa, 1)))
    assert r.status_code == 201, r.text
    assert r.json()["data"]["total"] == 6000


# ---- 14.10 order size ------------------------------------------------------------------


async def test_one_dish_is_capped_with_the_reason_even_across_lines(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    err = assert_error(await place(client, me, order_body((m.chai, 21))), 400, "VALIDATION_ERROR")
    assert err["details"] == [
        {
            "field": "items.0.quantity",
            "issue": "too_many_of_one_dish",
            "message": "At most 20 of one dish per order",
        }
    ]
    err = assert_error(
        await place(client, me, order_body((m.chai, 12), (m.chai, 9))), 400, "VALIDATION_ERROR"
    )
    assert err["details"] == [
        {
            "field": "items",
            "issue": "too_many_of_one_dish",
            "menu_item_id": str(m.chai),
            "message": "At most 20 of one dish per order",
        }
    ]
    assert await count_rows(container, Order) == 0


async def test_an_order_beyond_the_canteens_limits_is_refused_with_nothing_written(
    client, container
):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    public = (await client.get(f"{API}/config/public")).json()["data"]
    assert public["max_items_per_order"] == 20 and public["max_order_total"] == 200000
    await set_config(container, max_order_total=150000)  # ₹1,500: the seed menu is cheap

    many = order_body((m.chai, 20), (m.dosa, 20), (m.samosa, 5))
    err = assert_error(await place(client, me, many), 409, "ORDER_TOO_LARGE")
    assert err["message"] == "One order may hold at most 20 items"
    assert err["details"] == [
        {
            "field": "items",
            "issue": "too_many_items",
            "limit": 20,
            "requested": 45,
            "message": "One order may hold at most 20 items",
        },
        {
            "field": "total",
            "issue": "total_too_large",
            "limit": 150000,
            "requested": 20 * 1500 + 20 * 6000 + 5 * 2000,
            "message": "One order may come to at most ₹1500",
        },
    ]
    assert await count_rows(container, Order) == 0
    assert await _stock(container, m.samosa) == 10

    # The manager raises the limits for a department's party order; it goes through.
    admin = await login_staff(client, container, "admin", "+919000000101")
    r = await client.patch(
        f"{API}/admin/config",
        json={"max_items_per_order": 60, "max_order_total": 500000},
        headers=bearer(admin),
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["max_items_per_order"] == 60
    r = await place(client, me, many)
    assert r.status_code == 201, r.text


async def test_bad_limits_are_refused_and_nothing_changes(client, container):
    await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    for bad in ({"max_items_per_order": 0}, {"max_order_total": None}, {"max_order_total": -5}):
        r = await client.patch(f"{API}/admin/config", json=bad, headers=bearer(admin))
        assert_error(r, 400, "VALIDATION_ERROR")
    public = (await client.get(f"{API}/config/public")).json()["data"]
    assert public["max_items_per_order"] == 20 and public["max_order_total"] == 200000


# ---- 14.12 "ready" by SMS --------------------------------------------------------------


async def _ready(client, container, *, sms_on: bool) -> tuple[str, dict]:
    m = await seed_menu(container)
    await set_config(container, ready_sms_enabled=sms_on)
    phone = "+919876543210"
    me = await login_customer(client, container, phone)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    for status in ("preparing", "ready"):
        r = await client.patch(
            f"{API}/admin/orders/{order['id']}/status",
            json={"status": status},
            headers=bearer(kitchen),
        )
        assert r.status_code == 200, r.text
    return phone, order


async def _wait_for_sms(client, container, phone: str, count: int) -> list[dict]:
    deadline = time.monotonic() + 15
    while True:
        await container.jobs.drain()
        messages = await sms_to(client, phone)
        if len(messages) >= count or time.monotonic() > deadline:
            return messages
        await asyncio.sleep(0.1)


async def test_ready_sms_when_the_canteen_switches_it_on(client, container):
    phone, order = await _ready(client, container, sms_on=True)
    messages = await _wait_for_sms(client, container, phone, 2)  # sign-in code + ready
    ready = [m for m in messages if "is ready" in m["body"]]
    assert len(ready) == 1, messages
    assert order["number"] in ready[0]["body"] and order["pickup_code"] in ready[0]["body"]

    # The job runs again (at-least-once delivery): still one text.
    async with container.sessionmaker() as s:
        event = await s.scalar(
            select(Event).where(Event.order_id == uuid.UUID(order["id"]), Event.status == "ready")
        )
    await sms_order_ready(container, event_id=str(event.id), order_id=order["id"])
    await sms_order_ready(container, event_id=str(event.id), order_id=order["id"])
    assert len([m for m in await sms_to(client, phone) if "is ready" in m["body"]]) == 1


async def test_no_ready_sms_by_default(client, container):
    phone, _ = await _ready(client, container, sms_on=False)
    await asyncio.sleep(1.0)  # let the dispatcher and the worker run what they would
    messages = await _wait_for_sms(client, container, phone, 2)
    assert [m for m in messages if "is ready" in m["body"]] == []
    assert len(messages) == 1  # the sign-in code only
    assert await wait_for_otp(client, container, phone)


# ---- 14.9 a cancelled order says who cancelled it and why ------------------------------


async def test_a_cancelled_order_says_who_cancelled_it_and_why(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    mine = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    assert mine["cancelled_by"] is None
    r = await client.post(f"{API}/orders/{mine['id']}/cancel", headers=bearer(me))
    assert r.json()["data"]["cancelled_by"] == "customer"

    theirs = (await place(client, me, order_body((m.chai, 1)))).json()["data"]
    r = await client.patch(
        f"{API}/admin/orders/{theirs['id']}/status",
        json={"status": "cancelled", "reason": "milk ran out"},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    seen = (await client.get(f"{API}/orders/{theirs['id']}", headers=bearer(me))).json()["data"]
    assert (seen["status"], seen["cancelled_by"], seen["cancel_reason"]) == (
        "cancelled",
        "kitchen",
        "milk ran out",
    )
