"""Options on dishes through the SDK (issue 16): the menu's option groups, a line's chosen
options sent with CartLine.options and kept on the order's lines; a gone option is a typed
ITEM_UNAVAILABLE."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from canteen.menu.options import OptionGroupIn, normalise_groups
from canteen.orders.models import Order as OrderRow
from canteen_client import CartLine, ConflictFailure
from canteen_client.models import MenuOption, OptionGroup
from canteen_testkit.menu import Dish, write_menu

from .sdk_harness import sign_in

FILLING = {
    "name": "Filling",
    "required": True,
    "options": [{"name": "Plain"}, {"name": "Cheese", "price_delta": 3000}],
}


async def dosa_with_filling(container: Any) -> str:
    problems: list[dict[str, Any]] = []
    groups = normalise_groups([OptionGroupIn.model_validate(FILLING)], problems)
    assert not problems
    ids = await write_menu(
        container,
        categories=["Mains"],
        dishes=[Dish("Dosa", 4500, "Mains", ("allday",), {"option_groups": groups})],
        config={"cash_payment_enabled": True, "restaurant_open": True, "ordering_paused": False},
    )
    return str(ids["Dosa"])


async def test_options_travel_from_the_menu_to_the_order(api, raw, container):
    dosa_id = await dosa_with_filling(container)
    dosa = await api.menu.item(dosa_id)
    [filling] = dosa.option_groups
    assert isinstance(filling, OptionGroup) and isinstance(filling.options[0], MenuOption)
    assert (
        filling.name,
        filling.kind,
        filling.required,
        filling.min_select,
        filling.max_select,
    ) == (
        "Filling",
        "single",
        True,
        1,
        1,
    )
    cheese = next(o for o in filling.options if o.name == "Cheese")
    assert cheese.price_delta == 3000 and cheese.is_available

    await sign_in(api, raw, container)
    checkout = api.orders.checkout(
        [CartLine(dosa_id, 2, unit_price=7500, options=(cheese.id,))],
        order_type="pickup",
        payment_method="cash",
        time_slot="allday",
        expected_total=15000,
    )
    order = await checkout.place()
    [line] = order.items
    assert (line.unit_price, line.line_total) == (7500, 15000)
    assert [(o.group, o.name, o.price_delta, o.id) for o in line.options] == [
        ("Filling", "Cheese", 3000, cheese.id)
    ]
    again = await api.orders.order(order.id)
    assert again.items[0].options == line.options


async def test_a_gone_option_is_a_typed_refusal(api, raw, container):
    dosa_id = await dosa_with_filling(container)
    await sign_in(api, raw, container)
    checkout = api.orders.checkout(
        [CartLine(dosa_id, 1, options=("00000000-0000-4000-8000-000000000000",))],
        order_type="pickup",
        payment_method="cash",
        time_slot="allday",
    )
    with pytest.raises(ConflictFailure) as refused:
        await checkout.place()
    assert refused.value.code == "ITEM_UNAVAILABLE"
    assert [i.menu_item_id for i in refused.value.unavailable_items] == [dosa_id]
    async with container.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(OrderRow)) == 0
