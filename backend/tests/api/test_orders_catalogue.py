"""Placement's per-process catalogue (canteen.menu.catalogue): staff edits reach the very
next order; orders taking stock do not throw the catalogue away."""

from __future__ import annotations

from orders_helpers import order_body, place, seed_menu

from conftest import API, assert_error, bearer, login_customer, login_staff


async def test_staff_edits_reach_the_next_order(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    admin = await login_staff(client, container, "admin", "+919000000301")
    first = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    assert first["items"][0]["unit_price"] != 6500

    r = await client.patch(
        f"{API}/admin/menu/items/{m.dosa}", json={"price": 6500}, headers=bearer(admin)
    )
    assert r.status_code == 200, r.text
    second = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    assert second["items"][0]["unit_price"] == 6500 and second["total"] == 6500

    r = await client.patch(
        f"{API}/admin/menu/items/{m.chai}/availability",
        json={"is_available": False},
        headers=bearer(admin),
    )
    assert r.status_code == 200, r.text
    r = await place(client, me, order_body((m.chai, 1)))
    err = assert_error(r, 409, "ITEM_UNAVAILABLE")
    assert err["details"] == [
        {"menu_item_id": str(m.chai), "reason": "unavailable", "name": "Cutting Chai"}
    ]


async def test_orders_taking_stock_keep_the_catalogue(client, container):
    m = await seed_menu(container, samosa_stock=3)
    me = await login_customer(client, container)
    assert (await place(client, me, order_body((m.dosa, 1)))).status_code == 201
    catalogue = container.catalogue._current
    assert catalogue is not None
    assert (await place(client, me, order_body((m.samosa, 2)))).status_code == 201
    assert container.catalogue._current is catalogue  # stock moved; the catalogue did not
    # Stock is still read fresh: one samosa is left, not the three the catalogue saw.
    r = await place(client, me, order_body((m.samosa, 2), (m.dosa, 1)))
    err = assert_error(r, 409, "ITEM_UNAVAILABLE")
    assert err["details"] == [
        {"menu_item_id": str(m.samosa), "reason": "out_of_stock", "name": "Samosa", "available": 1}
    ]
