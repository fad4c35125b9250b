"""Menu reads with filters, the ETag cache (design §10.1), the config TTL (§10.3)."""

from __future__ import annotations

import contextlib

import pytest

from canteen_client import NotFoundFailure, ValidationFailure

from .sdk_harness import API, FakeClock, RecordingSleep, make_api, seed_menu, touch_menu


async def test_menu_with_category_and_time_slot_filters(api, container):
    m = await seed_menu(container)
    cats = await api.menu.categories()
    assert [(c.id, c.name) for c in cats] == [(m.mains, "Mains"), (m.drinks, "Drinks")]

    everything = await api.menu.items()
    assert {i.name for i in everything} == {
        "Masala Dosa",
        "Cutting Chai",
        "Veg Biryani",
        "Paneer Roll",
    }
    hidden = next(i for i in everything if i.id == m.hidden)
    assert not hidden.is_available and hidden.sold_out and not hidden.orderable

    mains = await api.menu.items(category_id=m.mains)
    assert {i.name for i in mains} == {"Masala Dosa", "Veg Biryani", "Paneer Roll"}
    lunch = await api.menu.items(time_slot="lunch")
    assert {i.name for i in lunch} == {"Masala Dosa", "Cutting Chai", "Veg Biryani"}
    lunch_mains = await api.menu.items(category_id=m.mains, time_slot="lunch")
    assert {i.name for i in lunch_mains} == {"Masala Dosa", "Veg Biryani"}
    drinks_now = await api.menu.items(category_id=m.drinks, time_slot="allday", available=True)
    assert [i.name for i in drinks_now] == ["Cutting Chai"]
    assert drinks_now[0].price == 1500 and drinks_now[0].time_slots == ["allday", "lunch"]
    assert [i.name for i in await api.menu.items(q="dosa", diet=["veg"])] == ["Masala Dosa"]

    item = await api.menu.item(m.biryani)
    assert item.name == "Veg Biryani" and item.time_slots == ["lunch"]


async def test_bad_filters_and_unknown_items_are_typed_failures(api, container):
    await seed_menu(container)
    with pytest.raises(ValidationFailure) as err:
        await api.menu.items(category_id="not-a-uuid")
    assert "category_id" in err.value.field_errors
    with pytest.raises(NotFoundFailure) as nf:
        await api.menu.item("00000000-0000-4000-8000-000000000000")
    assert nf.value.status == 404 and nf.value.code == "NOT_FOUND"


async def test_etag_304_is_served_from_the_cache(api, wire, container):
    m = await seed_menu(container)
    first = await api.menu.items(time_slot="lunch")
    (full,) = wire.calls("GET", f"{API}/menu/items")
    assert full.status == 200 and full.body_bytes > 500
    assert "If-None-Match" not in full.headers

    second = await api.menu.items(time_slot="lunch")
    assert second == first
    revalidated = wire.calls("GET", f"{API}/menu/items")[-1]
    assert revalidated.status == 304 and revalidated.body_bytes == 0
    assert revalidated.headers["If-None-Match"]
    assert api.menu.stats.not_modified == 1

    # Another query is cached on its own.
    await api.menu.items(time_slot="allday")
    assert wire.calls("GET", f"{API}/menu/items")[-1].status == 200

    # The menu changes: the same query gets the new body and a new tag.
    await touch_menu(container, m.dosa, price=6500)
    third = await api.menu.items(time_slot="lunch")
    assert wire.calls("GET", f"{API}/menu/items")[-1].status == 200
    assert next(i for i in third if i.id == m.dosa).price == 6500
    await api.menu.items(time_slot="lunch")
    assert wire.calls("GET", f"{API}/menu/items")[-1].status == 304

    await api.menu.categories()
    await api.menu.categories()
    assert [s.status for s in wire.calls("GET", f"{API}/menu/categories")] == [200, 304]
    await api.menu.item(m.chai)
    await api.menu.item(m.chai)
    assert [s.status for s in wire.calls("GET", f"{API}/menu/items/{m.chai}")] == [200, 304]


async def test_config_is_fetched_again_every_five_minutes(app, container):
    await seed_menu(container)
    clock = FakeClock()
    api, wire = make_api(app, clock=clock)
    async with api:
        config = await api.menu.config()
        assert config.cash_payment_enabled and config.upi_payment_enabled
        assert config.accepting_orders and config.currency == "INR"
        assert [s.code for s in config.time_slots] == ["allday", "lunch"]
        assert config.razorpay_key_id.startswith("rzp_test_")
        assert config.current_time_slot is not None

        clock.advance(299)
        assert await api.menu.config() is config
        assert len(wire.calls("GET", f"{API}/config/public")) == 1

        clock.advance(2)  # past five minutes
        fresh = await api.menu.config()
        assert len(wire.calls("GET", f"{API}/config/public")) == 2
        assert fresh is not config and fresh.delivery_fee == config.delivery_fee

        await api.menu.config(force=True)
        assert len(wire.calls("GET", f"{API}/config/public")) == 3
        assert api.menu.cached_config is not None


async def test_watch_config_yields_changes_every_five_minutes(app, container):
    from canteen.menu import service as menu_service

    await seed_menu(container)
    changes = iter([{"delivery_fee": 3000}, {}, {"restaurant_open": False}])

    async def admin_edits(delay: float) -> None:
        values = next(changes, {})
        if values:
            async with container.sessionmaker() as s, s.begin():
                config = await menu_service.get_config(s)
                for k, v in values.items():
                    setattr(config, k, v)

    sleep = RecordingSleep(hook=admin_edits)
    api, wire = make_api(app, sleep=sleep)
    seen = []
    async with api, contextlib.aclosing(api.menu.watch_config()) as configs:
        async for config in configs:
            seen.append(config)
            if len(seen) == 3:
                break
    assert [(c.delivery_fee, c.restaurant_open, c.accepting_orders) for c in seen] == [
        (2000, True, True),
        (3000, True, True),
        (3000, False, False),
    ]
    assert sleep.delays == [300, 300, 300]
    assert len(wire.calls("GET", f"{API}/config/public")) == 4  # one unchanged check
