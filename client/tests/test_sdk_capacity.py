"""Kitchen windows through the SDK (issue 16): menu.windows() lists a slot's windows with
room and whether the kitchen is busy; checkout(pickup_window=...) takes one and the order
carries it; a full window is a ConflictFailure SLOT_FULL with the next windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from canteen.core.clock import process_now
from canteen.kitchen.models import SlotCapacity
from canteen_client import CartLine, ConflictFailure, KitchenWindows
from canteen_testkit.menu import Dish, write_menu

from .sdk_harness import sign_in

TZ = ZoneInfo("Asia/Kolkata")


def nine_am(clock: Any) -> datetime:
    current = process_now()
    target = current.astimezone(TZ).replace(hour=9, minute=0, second=0, microsecond=0)
    if target <= current:
        target += timedelta(days=1)
    clock.set_to(target)
    return target


async def biryani(container: Any) -> str:
    ids = await write_menu(
        container,
        categories=["Mains"],
        dishes=[Dish("Biryani", 12000, "Mains", ("lunch",), {"prep_minutes": 20})],
        config={"cash_payment_enabled": True, "restaurant_open": True, "ordering_paused": False},
    )
    async with container.sessionmaker() as s, s.begin():
        s.add(SlotCapacity(slot_code="lunch", minutes_per_window=20))
    return str(ids["Biryani"])


async def test_windows_and_a_picked_window(api, raw, container, clock):
    day = nine_am(clock)
    dish = await biryani(container)
    await sign_in(api, raw, container)
    windows = await api.menu.windows("lunch")
    assert isinstance(windows, KitchenWindows)
    assert windows.time_slot == "lunch" and windows.minutes_per_window == 20
    assert windows.kitchen_busy is True  # lunch has not started: nothing is ready before it
    assert [w.window for w in windows.windows[:2]] == ["12:00", "12:15"]
    assert windows.windows[0].room_minutes == 20

    order = await api.orders.place([CartLine(dish, 1)], time_slot="lunch", pickup_window="12:15")
    assert order.pickup_window_start == day.replace(hour=12, minute=15).astimezone(UTC)
    assert order.pickup_window_end == day.replace(hour=12, minute=30).astimezone(UTC)
    assert [w.window for w in (await api.menu.windows("lunch")).windows[:2]] == ["12:00", "12:30"]

    with pytest.raises(ConflictFailure) as refused:
        await api.orders.place([CartLine(dish, 1)], time_slot="lunch", pickup_window="12:15")
    assert refused.value.code == "SLOT_FULL"
    assert [d["window"] for d in refused.value.details][:2] == ["12:00", "12:30"]


async def test_windows_for_a_cart_are_those_it_fits_in(api, raw, container, clock):
    nine_am(clock)
    dish = await biryani(container)
    await sign_in(api, raw, container)
    # 12:00 is full after one biryani (20 of 20 minutes): not offered to another.
    await api.orders.place([CartLine(dish, 1)], time_slot="lunch", pickup_window="12:00")
    assert (await api.menu.windows("lunch")).cart_minutes is None
    for_cart = await api.menu.windows("lunch", [(dish, 1)])
    assert for_cart.cart_minutes == 20
    assert [w.window for w in for_cart.windows[:2]] == ["12:15", "12:30"]
    twice = await api.menu.windows("lunch", [(dish, 2)])  # larger than a window: a whole one
    assert twice.cart_minutes == 20 and twice.windows[0].window == "12:15"
