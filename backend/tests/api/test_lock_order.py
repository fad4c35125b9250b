"""Row lock order between placement and the moves that give stock and kitchen room back
(found by the rush benchmark: a 500 'deadlock detected' on POST /orders). Placement locks
the dishes' rows, then its kitchen window, then the settings row (the menu version). A
cancel, and the recall of one, must take them in the same order. SQLite serialises
writers (BEGIN IMMEDIATE), so this is a PostgreSQL test."""

from __future__ import annotations

import asyncio

import pytest
from kitchen_helpers import parse, set_capacity, set_local_time, used, waiting_on_a_lock
from menu_support import admin_session
from orders_helpers import order_body, place, seed_menu
from sqlalchemy import select, text, update

from canteen.events.models import Event
from canteen.menu.models import CanteenConfig, MenuItem
from conftest import API, BACKEND, bearer, count_rows, login_customer, login_staff

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="SQLite writers never interleave")

_HOLD_WINDOW = text(
    "UPDATE kitchen_windows SET used_minutes = used_minutes "
    "WHERE slot_code = 'allday' AND window_start = :start"
)


async def _snapshot(container, item_id):
    async with container.sessionmaker() as s:
        stock = await s.scalar(select(MenuItem.stock_remaining).where(MenuItem.id == item_id))
        version = await s.scalar(select(CanteenConfig.menu_version))
    return stock, version


async def _race_with_a_placement(container, start, request):
    """A placement in flight holds the window's row and then bumps the menu version while
    `request` runs: in the placement's lock order both finish; out of it, a deadlock."""
    async with container.sessionmaker() as held:
        await held.execute(_HOLD_WINDOW, {"start": parse(start)})
        task = asyncio.create_task(request)
        await waiting_on_a_lock(container)
        await held.execute(
            update(CanteenConfig).values(menu_version=CanteenConfig.menu_version + 1)
        )
        await held.commit()
    return await asyncio.wait_for(task, 30)


async def test_a_cancel_racing_a_placement_does_not_deadlock(client, container, clock):
    set_local_time(clock, 9, 0)
    m = await seed_menu(container)
    await set_capacity(client, await admin_session(client, container), "allday", 120)
    me = await login_customer(client, container)
    order = (await place(client, me, order_body((m.samosa, 2)))).json()["data"]
    stock, version = await _snapshot(container, m.samosa)
    assert sum((await used(container, "allday")).values()) > 0
    events = await count_rows(container, Event)

    r = await _race_with_a_placement(
        container,
        order["pickup_window_start"],
        client.post(f"{API}/orders/{order['id']}/cancel", headers=bearer(me)),
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "cancelled"
    # Stock and room back once; the version moved by the placement and by the cancel.
    assert await _snapshot(container, m.samosa) == (stock + 2, version + 2)
    assert sum((await used(container, "allday")).values()) == 0
    assert await count_rows(container, Event) == events + 1


async def test_a_recalled_cancel_racing_a_placement_does_not_deadlock(client, container, clock):
    set_local_time(clock, 9, 0)
    m = await seed_menu(container)
    await set_capacity(client, await admin_session(client, container), "allday", 120)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    order = (await place(client, me, order_body((m.samosa, 2)))).json()["data"]
    oid = order["id"]
    r = await client.patch(
        f"{API}/admin/orders/{oid}/status",
        json={"status": "cancelled", "reason": "wrong table"},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    stock, version = await _snapshot(container, m.samosa)
    assert sum((await used(container, "allday")).values()) == 0

    r = await _race_with_a_placement(
        container,
        order["pickup_window_start"],
        client.post(
            f"{API}/admin/orders/{oid}/recall", json={"reason": "misclick"}, headers=bearer(kitchen)
        ),
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "confirmed"
    assert await _snapshot(container, m.samosa) == (stock - 2, version + 2)
    assert sum((await used(container, "allday")).values()) > 0
