"""The counter and the delivery screen (issue 17): finding a ready order by its pickup
code, the record of cash taken at handover or at the door, and what delivery staff may do."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from orders_helpers import order_body, place, seed_menu
from sqlalchemy import select

from canteen.events.models import Event
from canteen.orders.models import Order
from canteen.orders.tasks import sweep_not_collected
from canteen.users.models import User
from conftest import API, assert_error, bearer, count_rows, login_customer, login_staff


async def _status(client, staff, order_id, status, **extra):
    return await client.patch(
        f"{API}/admin/orders/{order_id}/status",
        json={"status": status, **extra},
        headers=bearer(staff),
    )


async def _ready(client, kitchen, order_id):
    for status in ("preparing", "ready"):
        r = await _status(client, kitchen, order_id, status)
        assert r.status_code == 200, r.text


async def _row(container, order_id):
    async with container.sessionmaker() as s:
        return await s.get(Order, uuid.UUID(order_id))


async def _completion_events(container, order_id):
    async with container.sessionmaker() as s:
        rows = await s.scalars(
            select(Event).where(Event.order_id == uuid.UUID(order_id)).order_by(Event.seq)
        )
        return [e for e in rows if e.status == "completed"]


def _other_code(*codes):
    return next(c for c in (f"{n:04d}" for n in range(10000)) if c not in codes)


def _lookup(client, staff, code):
    return client.get(f"{API}/admin/orders/by-pickup-code/{code}", headers=bearer(staff))


async def _setup(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    return m, me, kitchen


async def test_counter_finds_the_ready_order_by_code(client, container):
    m, me, kitchen = await _setup(client, container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    order = (await place(client, me, order_body((m.dosa, 2), (m.chai, 1)))).json()["data"]
    await _ready(client, kitchen, order["id"])
    for staff in (kitchen, admin):
        r = await _lookup(client, staff, order["pickup_code"])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["meta"] == {"page": 1, "per_page": 1, "total": 1}
        [found] = body["data"]
        assert found["id"] == order["id"] and found["status"] == "ready"
        assert [(i["name"], i["quantity"]) for i in found["items"]] == [
            ("Masala Dosa", 2),
            ("Cutting Chai", 1),
        ]
        assert found["payment_status"] == "cash_due" and found["total"] == 13500
        assert found["pickup_code"] == "****"  # the code stays the customer's to say
        assert found["allowed_next"] == ["completed", "cancelled"]


async def test_counter_unknown_or_not_ready_code_is_404_and_changes_nothing(client, container):
    m, me, kitchen = await _setup(client, container)
    ready = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    waiting = (await place(client, me, order_body((m.chai, 1)))).json()["data"]
    await _ready(client, kitchen, ready["id"])
    events = await count_rows(container, Event)
    unknown = _other_code(ready["pickup_code"], waiting["pickup_code"])
    # Unknown, not ready yet (confirmed), and a ready order whose code is a different one.
    for code in (unknown, waiting["pickup_code"]):
        if code == ready["pickup_code"]:
            continue
        err = assert_error(await _lookup(client, kitchen, code), 404, "ORDER_NOT_FOUND")
        assert err["message"] == f"No ready order has the pickup code {code}"
        assert err["details"] == []
    for bad in ("12a4", "123", "12345"):
        err = assert_error(await _lookup(client, kitchen, bad), 400, "VALIDATION_ERROR")
        assert err["details"][0]["field"] == "code"
    assert (await _row(container, ready["id"])).status == "ready"
    assert (await _row(container, waiting["id"])).status == "confirmed"
    assert await count_rows(container, Event) == events


async def test_counter_says_an_uncollected_order_was_not_collected(client, container, clock):
    m, me, kitchen = await _setup(client, container)
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    await _ready(client, kitchen, order["id"])
    clock.advance(31 * 60)  # past the default 30-minute collection window
    await sweep_not_collected(container)
    row = await _row(container, order["id"])
    assert row.status == "not_collected"
    ready = row.ready_at.astimezone(ZoneInfo(container.settings.timezone)).strftime("%H:%M")
    events = await count_rows(container, Event)
    async with container.sessionmaker() as s:
        no_shows = (await s.scalar(select(User).where(User.id == row.customer_id))).no_show_count
    err = assert_error(
        await _lookup(client, kitchen, order["pickup_code"]), 409, "ORDER_NOT_COLLECTED"
    )
    assert err["message"] == (
        f"Order {order['number']} was not collected in time (ready at {ready}); "
        "it can no longer be handed over here"
    )
    assert err["details"] == [
        {
            "field": "code",
            "issue": "not_collected",
            "order_number": order["number"],
            "status": "not_collected",
            "ready_at": ready,
        }
    ]
    # The refusal changes nothing: same status, no event, no further no-show counted.
    again = await _row(container, order["id"])
    assert (again.status, again.payment_status, again.completed_at) == (
        "not_collected",
        row.payment_status,
        None,
    )
    assert await count_rows(container, Event) == events
    async with container.sessionmaker() as s:
        user = await s.scalar(select(User).where(User.id == row.customer_id))
        assert user.no_show_count == no_shows

    # A ready order sharing the code is still found: it is the one to hand over.
    other = (await place(client, me, order_body((m.chai, 1)))).json()["data"]
    await _ready(client, kitchen, other["id"])
    async with container.sessionmaker() as s, s.begin():
        (await s.get(Order, uuid.UUID(other["id"]))).pickup_code = order["pickup_code"]
    r = await _lookup(client, kitchen, order["pickup_code"])
    assert r.status_code == 200, r.text
    assert [o["id"] for o in r.json()["data"]] == [other["id"]]


async def test_counter_ignores_an_uncollected_order_of_another_day(client, container, clock):
    m, me, kitchen = await _setup(client, container)
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    await _ready(client, kitchen, order["id"])
    clock.advance(31 * 60)
    await sweep_not_collected(container)
    async with container.sessionmaker() as s, s.begin():
        row = await s.get(Order, uuid.UUID(order["id"]))
        row.business_date = row.business_date - timedelta(days=1)
    # Codes repeat across days: yesterday's no-show is not this student's order.
    err = assert_error(await _lookup(client, kitchen, order["pickup_code"]), 404, "ORDER_NOT_FOUND")
    assert err["details"] == []
    assert (await _row(container, order["id"])).status == "not_collected"


async def test_counter_lookup_is_for_kitchen_and_admin_only(client, container):
    m, me, kitchen = await _setup(client, container)
    rider = await login_staff(client, container, "delivery", "+919000000301")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    await _ready(client, kitchen, order["id"])
    for session in (me, rider):
        r = await _lookup(client, session, order["pickup_code"])
        err = assert_error(r, 403, "INSUFFICIENT_ROLE")
        assert err["details"][0]["required_roles"] == ["admin", "kitchen"]
    r = await client.get(f"{API}/admin/orders/by-pickup-code/{order['pickup_code']}")
    assert_error(r, 401, "INVALID_TOKEN")


async def test_two_ready_orders_sharing_a_code_are_both_shown_oldest_first(client, container):
    m, me, kitchen = await _setup(client, container)
    first = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    second = (await place(client, me, order_body((m.chai, 1)))).json()["data"]
    await _ready(client, kitchen, first["id"])
    await _ready(client, kitchen, second["id"])
    async with container.sessionmaker() as s, s.begin():
        (await s.get(Order, uuid.UUID(second["id"]))).pickup_code = first["pickup_code"]
    r = await _lookup(client, kitchen, first["pickup_code"])
    assert [o["number"] for o in r.json()["data"]] == [first["number"], second["number"]]


async def test_cash_handover_records_who_collected_how_much_once(client, container):
    m, me, kitchen = await _setup(client, container)
    order = (await place(client, me, order_body((m.dosa, 1), (m.chai, 2)))).json()["data"]
    oid = order["id"]
    await _ready(client, kitchen, oid)
    r = await client.post(
        f"{API}/admin/orders/{oid}/handover",
        json={"pickup_code": order["pickup_code"]},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    done = r.json()["data"]
    assert done["status"] == "completed" and done["payment_status"] == "paid"
    last = done["events"][-1]
    assert last["data"]["cash_collected"] == 9000
    assert last["data"]["cash_collected_by"] == kitchen["user"]["id"]
    assert last["actor_id"] == kitchen["user"]["id"]
    row = await _row(container, oid)
    assert row.cash_collected_amount == 9000
    assert str(row.cash_collected_by) == kitchen["user"]["id"]
    assert row.cash_collected_at == row.completed_at
    # A second handover is refused and records nothing more.
    events = await count_rows(container, Event)
    r = await client.post(
        f"{API}/admin/orders/{oid}/handover",
        json={"pickup_code": order["pickup_code"]},
        headers=bearer(kitchen),
    )
    err = assert_error(r, 409, "INVALID_TRANSITION")
    assert err["details"][0]["current"] == "completed"
    assert await count_rows(container, Event) == events
    assert len(await _completion_events(container, oid)) == 1
    again = await _row(container, oid)
    assert (again.cash_collected_amount, again.cash_collected_at) == (9000, row.cash_collected_at)
    # Handed over: the counter no longer finds it.
    assert_error(await _lookup(client, kitchen, order["pickup_code"]), 404, "ORDER_NOT_FOUND")


async def test_wrong_code_at_the_counter_records_no_cash(client, container):
    m, me, kitchen = await _setup(client, container)
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    oid = order["id"]
    await _ready(client, kitchen, oid)
    events = await count_rows(container, Event)
    r = await client.post(
        f"{API}/admin/orders/{oid}/handover",
        json={"pickup_code": _other_code(order["pickup_code"])},
        headers=bearer(kitchen),
    )
    err = assert_error(r, 409, "PICKUP_CODE_MISMATCH")
    assert err["details"] == [{"field": "pickup_code", "issue": "mismatch"}]
    row = await _row(container, oid)
    assert (row.status, row.payment_status) == ("ready", "cash_due")
    assert (row.cash_collected_at, row.cash_collected_by, row.cash_collected_amount) == (
        None,
        None,
        None,
    )
    assert await count_rows(container, Event) == events


async def _delivery_order(client, container, m, me, kitchen, rider, **kw):
    body = order_body((m.dosa, 1), order_type="delivery", delivery_address="Hostel B, room 12")
    body.update(kw)
    order = (await place(client, me, body)).json()["data"]
    await _ready(client, kitchen, order["id"])
    r = await client.post(
        f"{API}/admin/orders/{order['id']}/assign-delivery",
        json={"staff_id": rider["user"]["id"]},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    return order


def _deliver(client, rider, order_id, status, **extra):
    return client.patch(
        f"{API}/delivery/orders/{order_id}/status",
        json={"status": status, **extra},
        headers=bearer(rider),
    )


async def test_delivery_list_has_what_the_screen_needs(client, container):
    m, me, kitchen = await _setup(client, container)
    rider = await login_staff(client, container, "delivery", "+919000000301")
    order = await _delivery_order(client, container, m, me, kitchen, rider)
    [mine] = (await client.get(f"{API}/delivery/orders", headers=bearer(rider))).json()["data"]
    assert mine["id"] == order["id"]
    assert mine["delivery_address"] == "Hostel B, room 12"
    assert mine["customer"]["phone"] == "+919876543210"
    assert [(i["name"], i["quantity"]) for i in mine["items"]] == [("Masala Dosa", 1)]
    assert (mine["payment_status"], mine["total"]) == ("cash_due", 8000)  # 6000 + 2000 fee
    assert mine["pickup_code"] == "****"  # the customer says it at the door
    assert mine["allowed_next"] == ["out_for_delivery"]


async def test_delivered_needs_the_customers_code_and_records_the_cash(client, container):
    m, me, kitchen = await _setup(client, container)
    rider = await login_staff(client, container, "delivery", "+919000000301")
    order = await _delivery_order(client, container, m, me, kitchen, rider)
    oid = order["id"]
    r = await _deliver(client, rider, oid, "out_for_delivery")
    assert r.status_code == 200 and r.json()["data"]["status"] == "out_for_delivery"
    events = await count_rows(container, Event)
    # No code, then a wrong one: refused, nothing written.
    err = assert_error(await _deliver(client, rider, oid, "completed"), 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "pickup_code"
    assert err["details"][0]["issue"] == "missing"
    wrong = _other_code(order["pickup_code"])
    r = await _deliver(client, rider, oid, "completed", pickup_code=wrong)
    err = assert_error(r, 409, "PICKUP_CODE_MISMATCH")
    assert err["message"] == "The pickup code does not match this order"
    assert err["details"] == [{"field": "pickup_code", "issue": "mismatch"}]
    r = await _deliver(client, rider, oid, "completed", pickup_code="12a4")
    assert_error(r, 400, "VALIDATION_ERROR")
    row = await _row(container, oid)
    assert (row.status, row.payment_status, row.cash_collected_at) == (
        "out_for_delivery",
        "cash_due",
        None,
    )
    assert await count_rows(container, Event) == events
    # The right code completes it and records the rider's cash.
    r = await _deliver(client, rider, oid, "completed", pickup_code=order["pickup_code"])
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "completed"
    row = await _row(container, oid)
    assert (row.payment_status, row.cash_collected_amount) == ("paid", 8000)
    assert str(row.cash_collected_by) == rider["user"]["id"]
    [done] = await _completion_events(container, oid)
    assert done.data["cash_collected"] == 8000
    assert done.data["cash_collected_by"] == rider["user"]["id"]
    assert done.data["actor"] == "delivery"
    assert await count_rows(container, Event) == events + 1


async def test_delivery_staff_cannot_touch_orders_not_theirs(client, container):
    m, me, kitchen = await _setup(client, container)
    rider = await login_staff(client, container, "delivery", "+919000000301")
    other = await login_staff(client, container, "delivery", "+919000000302")
    order = await _delivery_order(client, container, m, me, kitchen, rider)
    unassigned = (
        await place(
            client, me, order_body((m.chai, 1), order_type="delivery", delivery_address="Gate 2")
        )
    ).json()["data"]
    await _ready(client, kitchen, unassigned["id"])
    events = await count_rows(container, Event)
    for oid, code in ((order["id"], order["pickup_code"]), (unassigned["id"], None)):
        for status in ("out_for_delivery", "completed"):
            extra = {"pickup_code": code} if code else {}
            err = assert_error(
                await _deliver(client, other, oid, status, **extra), 404, "NOT_FOUND"
            )
            assert err["message"] == "No such order among your deliveries"
    err = assert_error(
        await _deliver(client, rider, unassigned["id"], "out_for_delivery"), 404, "NOT_FOUND"
    )
    assert_error(
        await _deliver(client, rider, str(uuid.uuid4()), "out_for_delivery"), 404, "NOT_FOUND"
    )
    theirs = (await client.get(f"{API}/delivery/orders", headers=bearer(other))).json()
    assert theirs["data"] == []
    # Nor the kitchen's endpoints: not the list, the lookup, a status, or a handover.
    for r in (
        await client.get(f"{API}/admin/orders/{order['id']}", headers=bearer(rider)),
        await _status(client, rider, order["id"], "cancelled", reason="x"),
        await client.post(
            f"{API}/admin/orders/{order['id']}/handover",
            json={"pickup_code": order["pickup_code"]},
            headers=bearer(rider),
        ),
    ):
        assert_error(r, 403, "INSUFFICIENT_ROLE")
    assert (await _row(container, order["id"])).status == "ready"
    assert (await _row(container, unassigned["id"])).status == "ready"
    assert await count_rows(container, Event) == events


async def test_a_recalled_cash_handover_returns_the_cash_record(client, container):
    m, me, kitchen = await _setup(client, container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    oid = order["id"]
    await _ready(client, kitchen, oid)
    r = await client.post(
        f"{API}/admin/orders/{oid}/handover",
        json={"pickup_code": order["pickup_code"]},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{API}/admin/orders/{oid}/recall", json={"reason": "wrong bag"}, headers=bearer(kitchen)
    )
    assert r.status_code == 200, r.text
    row = await _row(container, oid)
    assert (row.status, row.payment_status) == ("ready", "cash_due")
    assert (row.cash_collected_at, row.cash_collected_by, row.cash_collected_amount) == (
        None,
        None,
        None,
    )
    # Handed over again by someone else: the record is theirs, once.
    r = await client.post(
        f"{API}/admin/orders/{oid}/handover",
        json={"pickup_code": order["pickup_code"]},
        headers=bearer(admin),
    )
    assert r.status_code == 200, r.text
    row = await _row(container, oid)
    assert (row.cash_collected_amount, str(row.cash_collected_by)) == (6000, admin["user"]["id"])
