"""The students' live menu channel through the SDK (`MenuWatcher`, SSE on a real
server), and the price/limit answers of order placement as typed failures."""

from __future__ import annotations

import asyncio

import pytest

from canteen_client import ConflictFailure, MenuMessage

from .sdk_harness import API, live_api, seed_menu, sign_in, staff_session


async def next_message(watcher, timeout: float = 10.0) -> MenuMessage:
    return await asyncio.wait_for(anext(watcher), timeout)


async def admin_patch(raw, admin, path: str, body: dict) -> None:
    r = await raw.patch(
        f"{API}{path}", json=body, headers={"Authorization": f"Bearer {admin['access_token']}"}
    )
    assert r.status_code == 200, r.text


async def test_menu_watcher_hears_settings_and_sold_out(api, raw, container, app):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    admin = await staff_session(raw, container, "admin", "+919000000101")
    async with (
        live_api(app, token_store=api.token_store) as live,
        live.watch_menu() as watcher,
    ):
        hello = await next_message(watcher)
        assert hello.event == "hello" and hello.id is not None
        await admin_patch(raw, admin, "/admin/config", {"ordering_paused": True})
        paused = await next_message(watcher)
        assert paused.event == "config.updated"
        assert paused.data.get("changes", {}).get("ordering_paused") is True
        config = await live.menu.config(force=True)
        assert config.ordering_paused and not config.accepting_orders

        await admin_patch(raw, admin, "/admin/config", {"ordering_paused": False})
        assert (await next_message(watcher)).event == "config.updated"
        # Another student takes the last portion: the watcher names the dish.
        await admin_patch(raw, admin, f"/admin/menu/items/{m.dosa}", {"daily_stock": 1})
        while (msg := await next_message(watcher)).event != "menu.updated":
            pass
        await api.orders.place([(m.dosa, 1)], time_slot="allday", payment_method="cash")
        sold: MenuMessage | None = None
        for _ in range(5):
            msg = await next_message(watcher)
            if msg.sold_out_item:
                sold = msg
                break
        assert sold is not None and sold.sold_out_item == m.dosa
        assert watcher.connections == 1 and watcher.last_event_id == str(sold.id)


async def test_menu_watcher_resumes_with_last_event_id(api, raw, container, app):
    await seed_menu(container)
    await sign_in(api, raw, container)
    admin = await staff_session(raw, container, "admin", "+919000000101")
    async with live_api(app, token_store=api.token_store) as live:
        async with live.watch_menu() as first:
            hello = await next_message(first)
        # A change while nobody listens is replayed to the watcher that resumes.
        await admin_patch(raw, admin, "/admin/config", {"delivery_fee": 2500})
        resumed = live.watch_menu()
        resumed.last_event_id = str(hello.id)
        async with resumed:
            again = await next_message(resumed)
            assert again.event == "hello"
            missed = await next_message(resumed)
            assert missed.event == "config.updated"
            assert missed.data["changes"]["delivery_fee"] == 2500


async def test_menu_watcher_refuses_signed_out(api, app):
    from canteen_client import AuthFailure

    async with live_api(app) as live, live.watch_menu() as watcher:
        with pytest.raises(AuthFailure):
            await next_message(watcher)


async def test_price_changed_is_typed_and_frees_the_key(api, raw, container):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    admin = await staff_session(raw, container, "admin", "+919000000101")
    await admin_patch(raw, admin, f"/admin/menu/items/{m.dosa}", {"price": 6500})
    from canteen_client import CartLine

    attempt = api.orders.checkout(
        [CartLine(m.dosa, 2, unit_price=6000), CartLine(m.chai, 1, unit_price=1500)],
        time_slot="allday",
        expected_total=13500,
    )
    assert attempt.body["expected_total"] == 13500
    assert attempt.body["items"][0]["unit_price"] == 6000
    with pytest.raises(ConflictFailure) as info:
        await attempt.place()
    failure = info.value
    assert failure.code == "PRICE_CHANGED"
    [change] = failure.price_changes
    assert (change.menu_item_id, change.name) == (m.dosa, "Masala Dosa")
    assert (change.old_price, change.new_price) == (6000, 6500)
    total = failure.total_change
    assert total is not None and (total.old_total, total.new_total) == (13500, 14500)
    assert failure.unavailable_items == []
    assert (await api.orders.orders()).items == []
    # Confirmed at the new prices: placed (the refused attempt kept nothing).
    order = await api.orders.place(
        [CartLine(m.dosa, 2, unit_price=6500), CartLine(m.chai, 1, unit_price=1500)],
        time_slot="allday",
        expected_total=14500,
    )
    assert order.total == 14500


async def test_order_limits_are_public_and_typed(api, raw, container):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    admin = await staff_session(raw, container, "admin", "+919000000101")
    await admin_patch(raw, admin, "/admin/config", {"max_items_per_order": 3})
    config = await api.menu.config(force=True)
    assert config.max_items_per_order == 3 and config.max_order_total == 200000
    with pytest.raises(ConflictFailure) as info:
        await api.orders.place([(m.chai, 4)], time_slot="allday")
    assert info.value.code == "ORDER_TOO_LARGE"
    [limit] = info.value.limits
    assert (limit.field, limit.limit, limit.requested) == ("items", 3, 4)
    assert limit.message
