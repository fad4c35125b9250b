"""Issue 14 points 4, 5 and 10 in the app's state, against the real backend: the live
menu channel keeps settings, menu and cart fresh within 2 seconds; a changed price is
asked about (PRICE_CHANGED) and never charged silently; the order limits are said
before checkout and refused in words. No Flet: the screens draw exactly these values."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from app_harness import ADMIN, Api, DemoMenu
from app_support import sign_in
from canteen_app.state.cart import ONE_DISH_LIMIT, limit_notes, limit_problem
from canteen_app.state.errors import ActionKind, action_for
from canteen_client import ConflictFailure, PublicConfig

pytestmark = pytest.mark.timeout(120)


async def within(seconds: float, check: Callable[[], bool]) -> float:
    """Wait until `check()` holds; fail after `seconds`. Returns how long it took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            pytest.fail(f"not within {seconds} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def set_price(api: Api, item_id: str, price: int) -> None:
    r = api.http.patch(
        f"/admin/menu/items/{item_id}", headers=api.staff(ADMIN).headers, json={"price": price}
    )
    r.raise_for_status()


async def test_live_pause_resume_and_sold_out_reach_an_open_cart(
    make_state, api: Api, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    await state.cart.add(state.menu_item(menu.dishes["Masala Chai"]))
    await state.cart.add(state.menu_item(menu.dishes["Egg Puff"]))
    await within(5, lambda: state.live.running and bool(state.live.messages))  # hello
    assert state.checkout_blocked() is None
    try:
        api.set_config(ordering_paused=True)
        await within(2, lambda: not state.accepting_orders)
        assert state.checkout_blocked() == (
            "The kitchen has paused new orders: checkout comes back when they resume."
        )
        api.set_config(ordering_paused=False)
        await within(2, lambda: state.accepting_orders)
        assert state.checkout_blocked() is None

        api.set_available(menu.dishes["Egg Puff"], False)
        await within(2, lambda: not state.menu_item(menu.dishes["Egg Puff"]).orderable)
        assert state.checkout_blocked() == (
            "Remove Egg Puff to check out: not available right now."
        )
    finally:
        api.set_config(ordering_paused=False)
        api.set_available(menu.dishes["Egg Puff"], True)
    await within(2, lambda: state.checkout_blocked() is None)


async def test_sold_out_message_flags_the_dish_at_once(make_state, api: Api, menu: DemoMenu):
    """Another student takes the last portion: the `sold_out` message marks the dish
    before any re-read (the re-read is what the next test of freshness covers)."""
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    samosa = menu.dishes["Samosa (2 pcs)"]
    await state.cart.add(state.menu_item(samosa))
    other = make_state(directory=state.settings.data_dir.parent / "other")
    await other.start()
    await sign_in(other, api)
    await other.load_menu()
    await within(5, lambda: bool(state.live.messages))
    before = api.http.get(f"/menu/items/{samosa}").json()["data"]["daily_stock"]
    r = api.http.patch(
        f"/admin/menu/items/{samosa}", headers=api.staff(ADMIN).headers, json={"daily_stock": 2}
    )
    r.raise_for_status()
    try:
        await within(2, lambda: state.menu_item(samosa).stock_remaining == 2)
        await other.cart.add(other.menu_item(samosa), 2)
        other.checkout.form = replace(other.checkout.form, payment_method="cash")
        await other.checkout.place()
        await within(2, lambda: any(m.sold_out_item == samosa for m in state.live.messages))
        assert not state.menu_item(samosa).orderable
        assert state.checkout_blocked() == (
            "Remove Samosa (2 pcs) to check out: not available right now."
        )
    finally:
        r = api.http.patch(
            f"/admin/menu/items/{samosa}",
            headers=api.staff(ADMIN).headers,
            json={"daily_stock": before},
        )
        r.raise_for_status()


async def test_a_changed_price_is_asked_about_then_placed_at_the_new_price(
    make_state, api: Api, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    dosa_id = menu.dishes["Masala Dosa"]
    dosa = state.menu_item(dosa_id)
    old = dosa.price
    await state.cart.add(dosa, 2)
    state.checkout.form = replace(state.checkout.form, payment_method="cash")
    body = state.checkout.current_attempt().body
    assert body["items"][0]["unit_price"] == old and body["expected_total"] == 2 * old
    set_price(api, dosa_id, old + 500)
    try:
        await within(2, lambda: state.menu_item(dosa_id).price == old + 500)
        # The cart keeps the price the student saw; the new one is shown beside it.
        assert state.cart.lines[0].unit_price == old
        with pytest.raises(ConflictFailure) as refused:
            await state.checkout.place()
        action = action_for(refused.value, state.menu.names())
        assert action.kind is ActionKind.PRICE_CHANGED
        rupees = old // 100
        assert f"Masala Dosa: ₹{rupees} → ₹{rupees + 5}" in action.message
        assert f"New total: ₹{2 * rupees + 10} (was ₹{2 * rupees})" in action.message
        assert state.cart.count == 2  # nothing placed, nothing lost
        await state.checkout.accept_prices(refused.value)
        assert state.cart.lines[0].unit_price == old + 500
        order = await state.checkout.place()  # confirmed: a new attempt, the new price
        assert order.total == 2 * (old + 500) and state.checkout.attempts_made == 2
    finally:
        set_price(api, dosa_id, old)


def test_limit_texts() -> None:
    config = PublicConfig.from_json({"max_items_per_order": 20, "max_order_total": 200000})
    assert limit_notes(config) == ["At most 20 items per order", "Orders up to ₹2,000"]
    assert limit_problem(20, 200000, config) is None
    assert limit_problem(21, 10000, config) == (
        "At most 20 items per order: your cart has 21. Remove some to check out."
    )
    assert limit_problem(5, 200100, config) == (
        "Orders up to ₹2,000: yours comes to ₹2,001. Remove some to check out."
    )
    assert limit_notes(PublicConfig.from_json({})) == []  # an older server says nothing
    assert ONE_DISH_LIMIT == "At most 20 of one dish"


async def test_order_limits_before_checkout_and_in_words(
    make_state, api: Api, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    chai = state.menu_item(menu.dishes["Masala Chai"])
    assert limit_notes(state.config)[0] == "At most 20 items per order"
    await state.cart.add(chai, 20)
    assert state.cart.would_exceed(chai.id) and not state.cart.would_exceed(chai.id, 0)
    await state.cart.add(chai, 5)
    assert state.cart.count == 20  # capped at one dish's limit
    state.checkout.form = replace(state.checkout.form, payment_method="cash")
    try:
        api.set_config(max_items_per_order=4)
        await within(2, lambda: state.config.max_items_per_order == 4)
        assert state.checkout_blocked() == (
            "At most 4 items per order: your cart has 20. Remove some to check out."
        )
        with pytest.raises(ConflictFailure) as refused:  # if it still happens: in words
            await state.checkout.place()
        action = action_for(refused.value)
        assert action.title == "Your order is too large"
        assert action.message == "One order may hold at most 4 items."
    finally:
        api.set_config(max_items_per_order=20)
