"""Placing orders: pricing, idempotency, validation and the races (issue #4)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

from menu_support import set_local_time
from orders_helpers import order_body, place, seed_menu, set_config

from canteen.events.models import Event
from canteen.menu.models import MenuItem
from canteen.orders.models import Order, OrderItem
from conftest import API, assert_error, bearer, count_rows, login_customer


async def stock_of(container, item_id):
    async with container.sessionmaker() as s:
        return (await s.get(MenuItem, item_id)).stock_remaining


async def test_cash_pickup_order_is_priced_by_the_server(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    body = order_body((m.dosa, 2), (m.chai, 1), instructions="less oil")
    body["items"][0]["notes"] = "extra chutney"
    r = await place(client, me, body)
    assert r.status_code == 201, r.text
    o = r.json()["data"]
    assert o["status"] == "confirmed" and o["payment_status"] == "cash_due"
    assert o["subtotal"] == 2 * 6000 + 1500 and o["delivery_fee"] == 0 and o["total"] == 13500
    assert [(i["name"], i["unit_price"], i["quantity"], i["line_total"]) for i in o["items"]] == [
        ("Masala Dosa", 6000, 2, 12000),
        ("Cutting Chai", 1500, 1, 1500),
    ]
    assert o["items"][0]["notes"] == "extra chutney" and o["instructions"] == "less oil"
    assert re.fullmatch(r"ORD-\d{8}-001", o["number"])
    assert re.fullmatch(r"\d{4}", o["pickup_code"])
    assert o["estimated_ready_at"] and o["time_slot"] == "allday"
    events = await count_rows(container, Event)
    assert events == 1


async def test_upi_delivery_order_waits_for_payment_and_adds_the_fee(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    r = await place(
        client,
        me,
        order_body(
            (m.dosa, 1),
            order_type="delivery",
            payment_method="upi",
            delivery_address="Hostel 4, 212",
        ),
    )
    assert r.status_code == 201, r.text
    o = r.json()["data"]
    assert o["status"] == "received" and o["payment_status"] == "pending"
    assert o["delivery_fee"] == 2000 and o["total"] == 8000
    assert o["delivery_address"] == "Hostel 4, 212"


async def test_snapshot_keeps_the_price_paid(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    r = await place(client, me, order_body((m.dosa, 1)))
    async with container.sessionmaker() as s, s.begin():
        (await s.get(MenuItem, m.dosa)).price = 9900
    r = await client.get(f"{API}/orders/{r.json()['data']['id']}", headers=bearer(me))
    assert r.json()["data"]["items"][0]["unit_price"] == 6000


async def test_client_prices_are_ignored(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    body = order_body((m.dosa, 1))
    body["items"][0]["price"] = 1
    r = await place(client, me, body)
    # Unknown fields in a line are ignored; the server's price is used.
    assert r.status_code == 201 and r.json()["data"]["total"] == 6000


async def test_same_key_same_body_returns_the_same_order(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    key = str(uuid.uuid4())
    first = await place(client, me, order_body((m.dosa, 1)), key)
    assert first.status_code == 201
    # Whatever happens in between (here: the order is cancelled), the replay is the order.
    await client.post(f"{API}/orders/{first.json()['data']['id']}/cancel", headers=bearer(me))
    again = await place(client, me, order_body((m.dosa, 1)), key)
    assert again.status_code == 200
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert await count_rows(container, Order) == 1


async def test_the_key_store_holds_only_the_claim_naming_the_order(client, container):
    """The claim names the order its request places; nothing is written to the store
    after the commit (issue 20). A retry within the claim's minute reads the order by
    that id; after it (the key gone), the order row answers."""
    from canteen.orders.idempotency import CLAIM_TTL, IdempotencyStore

    m = await seed_menu(container)
    me = await login_customer(client, container)
    user_id, key = uuid.UUID(me["user"]["id"]), str(uuid.uuid4())
    first = await place(client, me, order_body((m.dosa, 1)), key)
    assert first.status_code == 201, first.text
    stored_key = IdempotencyStore._key(user_id, key)
    record = json.loads(await container.kv.get(stored_key))
    assert record["o"] == first.json()["data"]["id"]
    assert 0 < await container.kv.ttl(stored_key) <= CLAIM_TTL
    again = await place(client, me, order_body((m.dosa, 1)), key)
    assert (again.status_code, again.json()["data"]) == (200, first.json()["data"])
    assert json.loads(await container.kv.get(stored_key)) == record  # untouched
    await container.kv.delete(stored_key)  # the minute has passed
    later = await place(client, me, order_body((m.dosa, 1)), key)
    assert (later.status_code, later.json()["data"]) == (200, first.json()["data"])
    # That retry's own claim named an order it never placed: it was freed, not left to
    # send the retries after it to 409 for a minute.
    assert await container.kv.get(stored_key) is None
    assert await count_rows(container, Order) == 1 and await count_rows(container, Event) == 1


async def test_an_account_that_cannot_act_places_nothing(client, container):
    """The route checks the token; the placement's opening read takes the account and
    refuses it as every route does: deactivated, or gone. Nothing is written, and the key
    is freed. A retry of an order placed before the deactivation is refused too."""
    from sqlalchemy import update

    from canteen.orders.idempotency import IdempotencyStore
    from canteen.users.models import User

    m = await seed_menu(container)
    me = await login_customer(client, container)
    user_id, placed_key = uuid.UUID(me["user"]["id"]), str(uuid.uuid4())
    assert (await place(client, me, order_body((m.dosa, 1)), placed_key)).status_code == 201
    async with container.sessionmaker() as s, s.begin():
        await s.execute(update(User).where(User.id == user_id).values(is_active=False))
    key = str(uuid.uuid4())
    for attempt in (key, placed_key):
        r = await place(client, me, order_body((m.dosa, 1)), attempt)
        err = assert_error(r, 401, "INVALID_TOKEN")
        assert err["message"] == "This account has been deactivated"
    assert await container.kv.get(IdempotencyStore._key(user_id, key)) is None
    # A valid token of an account that no longer exists.
    ghost = container.tokens.encode_access(uuid.uuid4(), "customer", container.clock.now(), 600)
    r = await client.post(
        f"{API}/orders",
        json=order_body((m.dosa, 1)),
        headers={"Authorization": f"Bearer {ghost}", "X-Idempotency-Key": key},
    )
    assert assert_error(r, 401, "INVALID_TOKEN")["message"] == "The account no longer exists"
    assert await count_rows(container, Order) == 1 and await count_rows(container, Event) == 1


async def test_quoted_key_is_the_same_key(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    key = str(uuid.uuid4())
    first = await place(client, me, order_body((m.dosa, 1)), key)
    again = await place(client, me, order_body((m.dosa, 1)), f'"{key}"')
    assert again.status_code == 200 and again.json()["data"]["id"] == first.json()["data"]["id"]


async def test_same_key_different_body_is_422(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    key = str(uuid.uuid4())
    await place(client, me, order_body((m.dosa, 1)), key)
    r = await place(client, me, order_body((m.dosa, 2)), key)
    assert_error(r, 422, "IDEMPOTENCY_KEY_REUSED")
    assert await count_rows(container, Order) == 1


async def test_a_key_the_store_forgot_is_answered_from_the_order_row(client, container):
    """The key store lost the key (Redis restarted empty; the embedded store restarted):
    the retry is still answered with the order, once, and a different body under the key
    is still refused, with nothing written (no order, no stock taken)."""
    from canteen.orders.idempotency import IdempotencyStore

    m = await seed_menu(container, samosa_stock=5)
    me = await login_customer(client, container)
    user_id = uuid.UUID(me["user"]["id"])
    key = str(uuid.uuid4())
    first = await place(client, me, order_body((m.samosa, 1)), key)
    assert first.status_code == 201, first.text
    await IdempotencyStore(container.kv).release(user_id, key)  # forgotten
    again = await place(client, me, order_body((m.samosa, 1)), key)
    assert again.status_code == 200, again.text
    assert again.json()["data"] == first.json()["data"]
    await IdempotencyStore(container.kv).release(user_id, key)
    r = await place(client, me, order_body((m.samosa, 2)), key)
    assert_error(r, 422, "IDEMPOTENCY_KEY_REUSED")
    assert await count_rows(container, Order) == 1 and await count_rows(container, OrderItem) == 1
    assert await stock_of(container, m.samosa) == 4


async def test_keys_are_per_customer(client, container):
    m = await seed_menu(container)
    a = await login_customer(client, container, "+919876500001")
    b = await login_customer(client, container, "+919876500002")
    key = str(uuid.uuid4())
    ra = await place(client, a, order_body((m.dosa, 1)), key)
    rb = await place(client, b, order_body((m.dosa, 1)), key)
    assert ra.status_code == rb.status_code == 201
    assert ra.json()["data"]["id"] != rb.json()["data"]["id"]


async def test_missing_or_bad_key_is_400_and_writes_nothing(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    r = await client.post(f"{API}/orders", json=order_body((m.dosa, 1)), headers=bearer(me))
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "X-Idempotency-Key"
    r = await place(client, me, order_body((m.dosa, 1)), "has space")
    assert_error(r, 400, "VALIDATION_ERROR")
    assert await count_rows(container, Order) == 0


async def test_key_still_in_flight_is_409(client, container):
    from canteen.orders.idempotency import IdempotencyStore, fingerprint
    from canteen.orders.schemas import OrderCreate

    m = await seed_menu(container)
    me = await login_customer(client, container)
    key = str(uuid.uuid4())
    body = order_body((m.dosa, 1))
    # Another replica has claimed the key and is still placing the order.
    digest = fingerprint(OrderCreate.model_validate(body).model_dump(mode="json"))
    await IdempotencyStore(container.kv).claim(
        uuid.UUID(me["user"]["id"]), key, digest, uuid.uuid4()
    )
    r = await place(client, me, body, key)
    assert_error(r, 409, "IDEMPOTENCY_IN_PROGRESS")
    assert await count_rows(container, Order) == 0


async def test_fifty_parallel_requests_with_one_key_make_one_order(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    key = str(uuid.uuid4())
    results = await asyncio.gather(
        *[place(client, me, order_body((m.samosa, 1)), key) for _ in range(50)]
    )
    codes = [r.status_code for r in results]
    assert codes.count(201) == 1, codes
    assert set(codes) <= {201, 200, 409}
    ids = {r.json()["data"]["id"] for r in results if r.status_code in (200, 201)}
    assert len(ids) == 1
    assert await count_rows(container, Order) == 1
    assert await stock_of(container, m.samosa) == 9
    # After the first finishes, a retry is a replay.
    r = await place(client, me, order_body((m.samosa, 1)), key)
    assert r.status_code == 200 and r.json()["data"]["id"] in ids


async def test_failed_attempt_keeps_nothing_and_the_key_can_be_retried(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    key = str(uuid.uuid4())
    await set_config(container, restaurant_open=False)
    r = await place(client, me, order_body((m.dosa, 1)), key)
    assert_error(r, 409, "RESTAURANT_CLOSED")
    await set_config(container, restaurant_open=True)
    r = await place(client, me, order_body((m.dosa, 1)), key)
    assert r.status_code == 201


async def test_every_unavailable_item_is_reported_at_once(client, container):
    m = await seed_menu(container, samosa_stock=2)
    me = await login_customer(client, container)
    ghost = uuid.uuid4()
    r = await place(
        client,
        me,
        order_body((m.dosa, 1), (ghost, 1), (m.hidden, 1), (m.biryani, 1), (m.samosa, 3)),
    )
    err = assert_error(r, 409, "ITEM_UNAVAILABLE")
    reasons = {d["menu_item_id"]: d["reason"] for d in err["details"]}
    assert reasons == {
        str(ghost): "not_found",
        str(m.hidden): "unavailable",
        str(m.biryani): "not_in_time_slot",
        str(m.samosa): "out_of_stock",
    }
    assert next(d for d in err["details"] if d["reason"] == "out_of_stock")["available"] == 2
    assert await count_rows(container, Order) == 0
    assert await count_rows(container, OrderItem) == 0
    assert await count_rows(container, Event) == 0
    assert await stock_of(container, m.samosa) == 2


async def test_lunch_items_sell_in_the_lunch_slot(client, container, clock):
    # Mid-lunch: in the slot's last minutes no window can be ready in time, whatever the day.
    set_local_time(clock, "12:30")
    m = await seed_menu(container)
    me = await login_customer(client, container)
    r = await place(client, me, order_body((m.biryani, 1), time_slot="lunch"))
    assert r.status_code == 201, r.text
    assert r.json()["data"]["time_slot"] == "lunch"


async def test_canteen_switches(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    stock = await stock_of(container, m.samosa)
    disabled = {"field": "payment_method", "issue": "disabled"}
    cases = [
        ({"restaurant_open": False}, {}, "RESTAURANT_CLOSED", "The canteen is closed", []),
        ({"ordering_paused": True}, {}, "ORDERING_PAUSED", "The kitchen has paused", []),
        (
            {"delivery_enabled": False},
            {"order_type": "delivery", "delivery_address": "Gate 2"},
            "DELIVERY_DISABLED",
            "Delivery is not available",
            [{"field": "order_type", "issue": "disabled", "value": "delivery"}],
        ),
        (
            {"cash_payment_enabled": False},
            {},
            "PAYMENT_METHOD_DISABLED",
            "Paying by CASH is not available",
            [{**disabled, "value": "cash"}],
        ),
        (
            {"upi_payment_enabled": False},
            {"payment_method": "upi"},
            "PAYMENT_METHOD_DISABLED",
            "Paying by UPI is not available",
            [{**disabled, "value": "upi"}],
        ),
    ]
    for config, extra, code, message, details in cases:
        await set_config(container, **config)
        r = await place(client, me, order_body((m.dosa, 1), (m.samosa, 1), **extra))
        err = assert_error(r, 409, code)
        assert err["message"].startswith(message) and err["details"] == details
        await set_config(
            container,
            restaurant_open=True,
            ordering_paused=False,
            delivery_enabled=True,
            cash_payment_enabled=True,
            upi_payment_enabled=True,
        )
    assert await count_rows(container, Order) == 0
    assert await count_rows(container, OrderItem) == 0
    assert await count_rows(container, Event) == 0
    assert await stock_of(container, m.samosa) == stock


async def test_body_validation(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    cases = [
        (order_body((m.dosa, 0)), "items.0.quantity"),
        (order_body((m.dosa, 21)), "items.0.quantity"),
        ({**order_body(), "items": []}, "items"),
        (
            {**order_body(), "items": [{"menu_item_id": str(uuid.uuid4()), "quantity": 1}] * 31},
            "items",
        ),
        (order_body((m.dosa, 1), order_type="delivery"), "delivery_address"),
        (order_body((m.dosa, 1), order_type="delivery", delivery_address="  "), "delivery_address"),
        (order_body((m.dosa, 1), time_slot="midnight-feast"), "time_slot"),
        (order_body((m.dosa, 1), payment_method="card"), "payment_method"),
        (order_body((m.dosa, 1), order_type="dine_in"), "order_type"),
        (
            {**order_body((m.dosa, 1)), "items": [{"menu_item_id": "nope", "quantity": 1}]},
            "items.0.menu_item_id",
        ),
    ]
    for body, field in cases:
        r = await place(client, me, body)
        err = assert_error(r, 400, "VALIDATION_ERROR")
        assert field in [d["field"] for d in err["details"]], (field, err)
    assert await count_rows(container, Order) == 0
    assert await count_rows(container, Event) == 0


async def test_stock_race_exactly_the_stock_succeeds(client, container):
    m = await seed_menu(container, samosa_stock=10)
    customers = [await login_customer(client, container, f"+9198765{i:05d}") for i in range(5)]
    results = await asyncio.gather(
        *[place(client, customers[i % 5], order_body((m.samosa, 1))) for i in range(100)]
    )
    codes = [r.status_code for r in results]
    assert codes.count(201) == 10, codes
    assert codes.count(409) == 90
    assert all(
        r.json()["error"]["code"] == "ITEM_UNAVAILABLE" for r in results if r.status_code == 409
    )
    assert await stock_of(container, m.samosa) == 0
    assert await count_rows(container, Order) == 10


async def test_order_numbers_are_unique_under_parallel_placement(client, container):
    m = await seed_menu(container)
    customers = [await login_customer(client, container, f"+9198765{i:05d}") for i in range(4)]
    results = await asyncio.gather(
        *[place(client, customers[i % 4], order_body((m.chai, 1))) for i in range(40)]
    )
    assert all(r.status_code == 201 for r in results), [r.text for r in results][:3]
    numbers = sorted(r.json()["data"]["number"] for r in results)
    assert len(set(numbers)) == 40
    assert [int(n[-3:]) for n in numbers] == list(range(1, 41))


async def test_eta_grows_with_the_queue(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    first = (await place(client, me, order_body((m.chai, 1)))).json()["data"]
    for _ in range(6):
        await place(client, me, order_body((m.dosa, 1)))
    last = (await place(client, me, order_body((m.chai, 1)))).json()["data"]
    assert last["estimated_ready_at"] > first["estimated_ready_at"]


async def test_placing_needs_sign_in(client, container):
    m = await seed_menu(container)
    r = await client.post(
        f"{API}/orders", json=order_body((m.dosa, 1)), headers={"X-Idempotency-Key": "k1"}
    )
    assert_error(r, 401, "INVALID_TOKEN")
    assert await count_rows(container, Order) == 0
