"""Kitchen capacity per 15-minute window (issue 16, part 2), on both backends: the earliest
window with room, a chosen window, SLOT_FULL with the next windows, room given back by
every cancel, the windows the app shows, and 50 checkouts racing for the last room and the
last stock. Nothing is written when an order is refused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from kitchen_helpers import at, parse, set_capacity, set_local_time, used
from menu_support import admin_session, bearer_now
from orders_helpers import order_body, place, seed_menu
from sqlalchemy import update

from canteen.events.models import Event
from canteen.kitchen import eta
from canteen.kitchen.models import ItemTiming, SlotCapacity
from canteen.menu.models import MenuItem, TimeSlot
from canteen.orders.models import Order, OrderItem
from canteen.payments.tasks import expire_unpaid
from canteen.users.models import User
from conftest import API, assert_error, bearer, count_rows, login_customer, login_staff


async def _setup(client, container, clock, minutes=30):
    set_local_time(clock, 9, 0)  # three hours before lunch (12:00-15:00)
    m = await seed_menu(container)
    admin = await admin_session(client, container)
    await set_capacity(client, admin, "lunch", minutes)
    me = await login_customer(client, container)
    return m, admin, me


def lunch(*lines, **kw):
    return order_body(*lines, time_slot="lunch", **kw)


async def test_orders_take_the_earliest_window_with_room(client, container, clock):
    m, _, me = await _setup(client, container, clock, minutes=30)
    placed = []
    for _ in range(3):  # 20 kitchen minutes each: one per 30-minute window
        r = await place(client, me, lunch((m.biryani, 1)))
        assert r.status_code == 201, r.text
        placed.append(r.json()["data"])
    starts = [parse(o["pickup_window_start"]) for o in placed]
    assert starts == [at(clock, "12:00"), at(clock, "12:15"), at(clock, "12:30")]
    assert parse(placed[0]["pickup_window_end"]) == at(clock, "12:15")
    # A 3-minute chai still fits beside the first biryani.
    chai = (await place(client, me, lunch((m.chai, 2)))).json()["data"]
    assert parse(chai["pickup_window_start"]) == at(clock, "12:00")
    assert await used(container, "lunch") == {"12:00": 26, "12:15": 20, "12:30": 20}
    # The estimate is inside the reserved window, never before it opens.
    for o in [*placed, chai]:
        start, end = parse(o["pickup_window_start"]), parse(o["pickup_window_end"])
        assert start <= parse(o["estimated_ready_at"]) <= end
    # The customer's and the kitchen's views both carry the window.
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    r = await client.get(f"{API}/admin/orders/{chai['id']}", headers=bearer(kitchen))
    assert r.json()["data"]["pickup_window_start"] == chai["pickup_window_start"]
    r = await client.get(f"{API}/orders/{chai['id']}", headers=bearer(me))
    assert r.json()["data"]["pickup_window_end"] == chai["pickup_window_end"]


async def test_a_student_picks_the_window(client, container, clock):
    m, _, me = await _setup(client, container, clock)
    r = await place(client, me, lunch((m.biryani, 1), pickup_window="13:15"))
    assert r.status_code == 201, r.text
    o = r.json()["data"]
    assert parse(o["pickup_window_start"]) == at(clock, "13:15")
    assert at(clock, "13:15") <= parse(o["estimated_ready_at"]) <= at(clock, "13:30")
    assert await used(container, "lunch") == {"13:15": 20}


async def test_a_full_window_answers_slot_full_with_the_next_windows(client, container, clock):
    m, _, me = await _setup(client, container, clock, minutes=20)
    assert (
        await place(client, me, lunch((m.biryani, 1), pickup_window="12:00"))
    ).status_code == 201
    before = (await count_rows(container, Order), await count_rows(container, Event))
    r = await place(client, me, lunch((m.biryani, 1), pickup_window="12:00"))
    err = assert_error(r, 409, "SLOT_FULL")
    assert [d["window"] for d in err["details"]] == ["12:15", "12:30", "12:45", "13:00"]
    first = err["details"][0]
    assert first["field"] == "pickup_window" and first["issue"] == "next_with_room"
    assert first["time_slot"] == "lunch" and first["room_minutes"] == 20
    assert parse(first["start"]) == at(clock, "12:15")
    assert "room" in err["message"].lower()
    # Nothing written: no order, no line, no event, the window's figure as it was.
    assert (await count_rows(container, Order), await count_rows(container, Event)) == before
    assert await count_rows(container, OrderItem) == 1
    assert await used(container, "lunch") == {"12:00": 20}


async def test_a_full_slot_has_no_next_windows_and_takes_nothing(client, container, clock):
    m, _, me = await _setup(client, container, clock, minutes=20)
    async with container.sessionmaker() as s, s.begin():  # stock counted: none may be lost
        await s.execute(
            update(MenuItem)
            .where(MenuItem.id == m.biryani)
            .values(daily_stock=50, stock_remaining=50)
        )
    for _ in range(12):  # 12 windows of 20 minutes, one biryani each
        assert (await place(client, me, lunch((m.biryani, 1)))).status_code == 201
    orders = await count_rows(container, Order)
    r = await place(client, me, lunch((m.biryani, 1)))
    err = assert_error(r, 409, "SLOT_FULL")
    assert err["details"] == []
    assert await count_rows(container, Order) == orders
    async with container.sessionmaker() as s:
        assert (await s.get(MenuItem, m.biryani)).stock_remaining == 38
    # Dinner-time windows of another slot are not this slot's: all-day still has room.
    assert (await place(client, me, order_body((m.dosa, 1)))).status_code == 201


async def test_an_order_the_slot_ends_before_is_told_so_and_takes_nothing(client, container, clock):
    """Ten minutes before lunch ends (15:00) a 20-minute biryani cannot be ready in any
    window of it: SLOT_FULL says when the slot ends, not that the kitchen is full (its
    windows are empty), and a 3-minute chai still goes in the last window."""
    m, _, me = await _setup(client, container, clock)
    clock.set_to(at(clock, "14:50"))  # the same day as the setup's 09:00
    token = bearer_now(container, me)["Authorization"].removeprefix("Bearer ")
    me = {**me, "access_token": token}  # minted at 14:50: the morning's has expired
    async with container.sessionmaker() as s:
        stock = (await s.get(MenuItem, m.biryani)).stock_remaining
    events = await count_rows(container, Event)  # the capacity setting's
    for body in (lunch((m.biryani, 1)), lunch((m.biryani, 1), pickup_window="14:45")):
        r = await place(client, me, body)
        err = assert_error(r, 409, "SLOT_FULL")
        assert "ends at 15:00" in err["message"], err
        (detail,) = err["details"]
        assert (detail["field"], detail["issue"], detail["time_slot"]) == (
            "time_slot",
            "ends_too_soon",
            "lunch",
        )
        assert parse(detail["ends_at"]) == at(clock, "15:00")
        assert parse(detail["ready_from"]) > at(clock, "15:00")
    assert await count_rows(container, Order) == 0
    assert await count_rows(container, OrderItem) == 0
    assert await count_rows(container, Event) == events
    assert await used(container, "lunch") == {}
    async with container.sessionmaker() as s:
        assert (await s.get(MenuItem, m.biryani)).stock_remaining == stock
    r = await place(client, me, lunch((m.chai, 1)))
    assert r.status_code == 201, r.text
    assert parse(r.json()["data"]["pickup_window_start"]) == at(clock, "14:45")


async def test_a_window_that_is_not_the_slots_is_refused(client, container, clock):
    m, _, me = await _setup(client, container, clock)
    for bad in ("15:00", "12:10", "08:00"):
        r = await place(client, me, lunch((m.biryani, 1), pickup_window=bad))
        err = assert_error(r, 400, "VALIDATION_ERROR")
        assert err["details"][0]["field"] == "pickup_window"
        assert err["details"][0]["issue"] == "not_available"
        assert err["details"][0]["windows"][:2] == ["12:00", "12:15"]
    r = await place(client, me, lunch((m.biryani, 1), pickup_window="1:15pm"))
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert any("pickup_window" in str(d.get("field")) for d in err["details"])
    assert await count_rows(container, Order) == 0
    assert await used(container, "lunch") == {}


async def test_every_cancel_gives_the_room_back(client, container, clock):
    m, _, me = await _setup(client, container, clock, minutes=20)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    a = (await place(client, me, lunch((m.biryani, 1)))).json()["data"]
    b = (await place(client, me, lunch((m.biryani, 1)))).json()["data"]
    assert await used(container, "lunch") == {"12:00": 20, "12:15": 20}
    r = await client.post(f"{API}/orders/{a['id']}/cancel", headers=bearer(me))
    assert r.status_code == 200, r.text
    assert await used(container, "lunch") == {"12:15": 20}
    await client.patch(
        f"{API}/admin/orders/{b['id']}/status",
        json={"status": "preparing"},
        headers=bearer(kitchen),
    )
    r = await client.patch(
        f"{API}/admin/orders/{b['id']}/status",
        json={"status": "cancelled", "reason": "out of rice"},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    assert await used(container, "lunch") == {}
    # The room is taken again by the next order.
    c = (await place(client, me, lunch((m.biryani, 1)))).json()["data"]
    assert parse(c["pickup_window_start"]) == at(clock, "12:00")


async def test_a_recalled_cancel_takes_its_room_again(client, container, clock):
    m, _, me = await _setup(client, container, clock, minutes=20)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    o = (await place(client, me, lunch((m.biryani, 1)))).json()["data"]
    r = await client.patch(
        f"{API}/admin/orders/{o['id']}/status",
        json={"status": "cancelled", "reason": "out of rice"},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    assert await used(container, "lunch") == {}
    r = await client.post(
        f"{API}/admin/orders/{o['id']}/recall",
        json={"reason": "wrong ticket"},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    assert await used(container, "lunch") == {"12:00": 20}
    # Cancelled again for real: the room is given back once more.
    r = await client.patch(
        f"{API}/admin/orders/{o['id']}/status",
        json={"status": "cancelled", "reason": "out of rice, really"},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    assert await used(container, "lunch") == {}


async def test_an_unpaid_upi_order_that_expires_gives_its_room_back(client, container, clock):
    m, _, me = await _setup(client, container, clock, minutes=20)
    r = await place(client, me, lunch((m.biryani, 1), payment_method="upi"))
    assert r.status_code == 201, r.text
    assert await used(container, "lunch") == {"12:00": 20}
    clock.advance(3600)  # well past the payment window
    await expire_unpaid(container)
    assert await used(container, "lunch") == {}
    async with container.sessionmaker() as s:
        o = await s.get(Order, uuid.UUID(r.json()["data"]["id"]))
        assert o.status == "cancelled" and o.cancelled_by == "system"


async def test_the_windows_the_app_shows(client, container, clock):
    m, _, me = await _setup(client, container, clock, minutes=20)
    await place(client, me, lunch((m.biryani, 1), pickup_window="12:00"))
    await place(client, me, lunch((m.chai, 2), pickup_window="12:15"))
    r = await client.get(f"{API}/menu/windows", params={"time_slot": "lunch"})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["time_slot"] == "lunch" and data["minutes_per_window"] == 20
    first = data["windows"][0]
    assert first["window"] == "12:15" and first["room_minutes"] == 14  # 12:00 is full
    assert len(data["windows"]) == 11
    assert at(clock, "12:15") <= parse(first["ready_around"]) <= at(clock, "12:30")
    assert data["kitchen_busy"] is True  # a pre-order: nothing is ready before lunch
    assert data["ready_around"] == first["ready_around"]
    # The current slot by default (all day), where the kitchen is free right now.
    now = (await client.get(f"{API}/menu/windows")).json()["data"]
    assert now["time_slot"] == "allday" and now["kitchen_busy"] is False
    r = await client.get(f"{API}/menu/windows", params={"time_slot": "brunch"})
    err = assert_error(r, 404, "NOT_FOUND")
    assert err["details"][0]["field"] == "time_slot"


async def test_the_windows_fit_the_cart(client, container, clock):
    """A window is offered for a cart only if the cart fits in it, as placing finds."""
    m, _, me = await _setup(client, container, clock, minutes=20)
    await place(client, me, lunch((m.biryani, 1), pickup_window="12:00"))
    await place(client, me, lunch((m.chai, 2), pickup_window="12:15"))  # 14 minutes left

    async def windows(*cart):
        r = await client.get(
            f"{API}/menu/windows", params={"time_slot": "lunch", "item": [str(i) for i in cart]}
        )
        assert r.status_code == 200, r.text
        return r.json()["data"]

    chai = await windows(m.chai, m.chai)  # 6 minutes: fits beside the queue at 12:15
    assert chai["cart_minutes"] == 6 and chai["windows"][0]["window"] == "12:15"
    biryani = await windows(m.biryani)  # 20 minutes: only an empty window holds it
    assert biryani["cart_minutes"] == 20 and biryani["windows"][0]["window"] == "12:30"
    assert "12:15" not in {w["window"] for w in biryani["windows"]}
    placed = (await place(client, me, lunch((m.biryani, 1)))).json()["data"]
    assert parse(placed["pickup_window_start"]) == at(clock, "12:30")  # what was offered
    # Dishes not on the menu are left out: an unknown id alone is no cart.
    unknown = await windows(uuid.uuid4())
    assert unknown["cart_minutes"] is None and unknown["windows"][0]["window"] == "12:15"
    r = await client.get(f"{API}/menu/windows", params={"item": "not-an-id"})
    assert assert_error(r, 400, "VALIDATION_ERROR")["details"][0]["field"] == "item.0"


async def test_the_windows_between_slots_are_the_next_slots(client, container, clock):
    """Outside serving hours the app gets the slot that opens next, never an error; with
    no active slot at all, 404."""
    await _setup(client, container, clock)
    async with container.sessionmaker() as s:
        await s.execute(update(TimeSlot).where(TimeSlot.code == "allday").values(is_active=False))
        await s.commit()
    data = (await client.get(f"{API}/menu/windows")).json()["data"]
    assert data["time_slot"] == "lunch" and data["windows"][0]["window"] == "12:00"
    set_local_time(clock, 16, 0)  # lunch is over: tomorrow's lunch
    data = (await client.get(f"{API}/menu/windows")).json()["data"]
    assert data["time_slot"] == "lunch"
    assert parse(data["windows"][0]["start"]) == at(clock, "12:00") + timedelta(days=1)
    async with container.sessionmaker() as s:
        await s.execute(update(TimeSlot).values(is_active=False))
        await s.commit()
    r = await client.get(f"{API}/menu/windows")
    assert assert_error(r, 404, "NOT_FOUND")["details"][0]["issue"] == "none_active"


async def test_capacity_setting_defaults_to_the_staff_and_is_admin_only(client, container, clock):
    set_local_time(clock, 9, 0)
    await seed_menu(container)
    admin = await admin_session(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    await login_staff(client, container, "kitchen", "+919000000202")
    r = await client.get(f"{API}/admin/kitchen/capacity", headers=bearer(kitchen))
    data = r.json()["data"]
    assert data["default_minutes_per_window"] == 30  # two kitchen staff x 15 minutes
    assert {s["time_slot"]: s["is_default"] for s in data["slots"]} == {
        "allday": True,
        "lunch": True,
    }
    data = await set_capacity(client, admin, "lunch", 45)
    assert {s["time_slot"]: s["minutes_per_window"] for s in data["slots"]}["lunch"] == 45
    before = await count_rows(container, Event)
    r = await client.put(
        f"{API}/admin/kitchen/capacity",
        json={"time_slot": "lunch", "minutes_per_window": 10},
        headers=bearer(kitchen),
    )
    assert_error(r, 403, "INSUFFICIENT_ROLE")
    r = await client.put(
        f"{API}/admin/kitchen/capacity",
        json={"time_slot": "brunch", "minutes_per_window": 10},
        headers=bearer(admin),
    )
    err = assert_error(r, 404, "NOT_FOUND")
    assert err["details"][0]["field"] == "time_slot"
    assert err["details"][0]["issue"] == "unknown_slot"
    r = await client.put(
        f"{API}/admin/kitchen/capacity",
        json={"time_slot": "lunch", "minutes_per_window": 0},
        headers=bearer(admin),
    )
    assert_error(r, 400, "VALIDATION_ERROR")
    assert await count_rows(container, Event) == before
    data = await set_capacity(client, admin, "lunch", None)
    lunch_row = next(s for s in data["slots"] if s["time_slot"] == "lunch")
    assert lunch_row == {"time_slot": "lunch", "minutes_per_window": 30, "is_default": True}


async def _customers(client, container, n):
    return [await login_customer(client, container, f"+9198766{i:05d}") for i in range(n)]


async def test_fifty_checkouts_race_for_the_room(client, container, clock):
    m, _, _ = await _setup(client, container, clock, minutes=60)
    customers = await _customers(client, container, 5)
    results = await asyncio.gather(
        *[place(client, customers[i % 5], lunch((m.biryani, 1))) for i in range(50)]
    )
    codes = sorted(r.status_code for r in results)
    # 12 windows x 60 minutes, 20 minutes an order: exactly 36 fit, never more.
    assert codes == [201] * 36 + [409] * 14, [r.text for r in results if r.status_code >= 500]
    for r in results:
        if r.status_code == 409:
            assert_error(r, 409, "SLOT_FULL")
    windows = await used(container, "lunch")
    assert len(windows) == 12 and set(windows.values()) == {60}
    assert await count_rows(container, Order) == 36


async def test_fifty_checkouts_race_for_the_last_room_and_the_last_stock(client, container, clock):
    m, _, _ = await _setup(client, container, clock, minutes=60)
    async with container.sessionmaker() as s, s.begin():
        await s.execute(
            update(MenuItem)
            .where(MenuItem.id == m.biryani)
            .values(daily_stock=2, stock_remaining=2)
        )
    customers = await _customers(client, container, 5)
    # Everyone wants 12:45: room for three orders, stock for two.
    results = await asyncio.gather(
        *[
            place(client, customers[i % 5], lunch((m.biryani, 1), pickup_window="12:45"))
            for i in range(50)
        ]
    )
    assert sorted(r.status_code for r in results) == [201] * 2 + [409] * 48
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} <= {
        "ITEM_UNAVAILABLE",
        "SLOT_FULL",
    }
    assert await used(container, "lunch") == {"12:45": 40}
    async with container.sessionmaker() as s:
        assert (await s.get(MenuItem, m.biryani)).stock_remaining == 0
    assert await count_rows(container, Order) == 2


async def test_the_placements_kitchen_read_gives_capacity_and_measured_times_together(
    client, container, clock
):
    """One round trip for the slot's capacity and the dishes' measured times (issue 20):
    the capacity comes back whether or not any dish was measured, the staff default when
    the slot has no row, and only the measured dishes' times."""
    menu = await seed_menu(container)
    await login_staff(client, container, "kitchen", "+919000000201")
    dishes = [menu.dosa, menu.chai]
    async with container.sessionmaker() as s:
        assert await eta.capacity_and_stage_seconds(s, "lunch", dishes) == (15, {})
        s.add(SlotCapacity(slot_code="lunch", minutes_per_window=45))
        s.add(
            ItemTiming(
                menu_item_id=menu.dosa,
                wait_seconds=60.0,
                cook_seconds=240.0,
                samples=3,
                updated_at=clock.now(),
            )
        )
        # A dish with a row but no samples yet counts as unmeasured.
        s.add(ItemTiming(menu_item_id=menu.chai, samples=0, updated_at=clock.now()))
        await s.commit()
        assert await eta.capacity_and_stage_seconds(s, "lunch", dishes) == (
            45,
            {menu.dosa: (60.0, 240.0)},
        )
        assert await eta.capacity_and_stage_seconds(s, "allday", [menu.chai]) == (15, {})
    # The staff default follows the staff at once: 15 minutes each, at least 15.
    await login_staff(client, container, "kitchen", "+919000000202")
    async with container.sessionmaker() as s:
        assert await eta.capacity_and_stage_seconds(s, "allday", [menu.chai]) == (30, {})
        await s.execute(update(User).where(User.role == "kitchen").values(is_active=False))
        assert await eta.capacity_and_stage_seconds(s, "allday", [menu.chai]) == (15, {})
        await s.rollback()
