"""Pricing an order (canteen.orders.pricing): base price plus the chosen options' deltas,
times the quantity, plus the delivery fee; the total the customer saw must match."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from canteen.core.errors import ValidationFailed
from canteen.menu.catalogue import ItemInfo
from canteen.menu.models import CanteenConfig
from canteen.menu.options import OptionGroupIn, item_options, normalise_groups
from canteen.orders.pricing import (
    ItemUnavailable,
    OrderTooLarge,
    PriceChanged,
    check_option_counts,
    check_prices,
    check_size,
    missing_options,
    price_lines,
)
from canteen.orders.schemas import OrderCreate


def dish(name: str, price: int, *groups: dict[str, Any]) -> ItemInfo:
    problems: list[dict[str, Any]] = []
    stored = normalise_groups([OptionGroupIn.model_validate(g) for g in groups], problems)
    assert not problems
    return ItemInfo(
        id=uuid.uuid4(),
        name=name,
        price=price,
        prep_minutes=10,
        orderable=True,
        slot_ids=frozenset(),
        tracks_stock=False,
        options=item_options(stored),
    )


FILLING = {
    "name": "Filling",
    "required": True,
    "options": [
        {"name": "Plain"},
        {"name": "Masala", "price_delta": 1500},
        {"name": "Cheese", "price_delta": 3000, "is_available": False},
    ],
}
EXTRAS = {
    "name": "Extras",
    "kind": "multiple",
    "options": [{"name": "Butter", "price_delta": 1000}, {"name": "Podi", "price_delta": 500}],
}


def opt(item: ItemInfo, name: str) -> str:
    assert item.options.options is not None
    return str(next(o.id for o in item.options.options.values() if o.name == name))


def order(*lines: dict[str, Any], **kw: Any) -> OrderCreate:
    return OrderCreate.model_validate(
        {"items": list(lines), "order_type": "pickup", "payment_method": "cash", **kw}
    )


def line(item: ItemInfo, quantity: int, *options: str, **kw: Any) -> dict[str, Any]:
    return {"menu_item_id": str(item.id), "quantity": quantity, "options": list(options), **kw}


def test_unit_price_is_base_plus_deltas_and_the_line_multiplies_it() -> None:
    dosa = dish("Dosa", 4500, FILLING, EXTRAS)
    body = order(
        line(dosa, 3, opt(dosa, "Podi"), opt(dosa, "Masala"), opt(dosa, "Butter")),
        line(dosa, 1, opt(dosa, "Plain")),
    )
    priced = price_lines(body.items, {dosa.id: dosa})
    assert [(p.unit_price, p.quantity, p.line_total) for p in priced] == [
        (4500 + 1500 + 1000 + 500, 3, 3 * 7500),
        (4500, 1, 4500),
    ]
    # Kept in the dish's order, with the group's name, whatever order was sent.
    assert [(o["group"], o["name"], o["price_delta"]) for o in priced[0].options_snapshot()] == [
        ("Filling", "Masala", 1500),
        ("Extras", "Butter", 1000),
        ("Extras", "Podi", 500),
    ]
    assert check_prices(body, priced, delivery_fee=0) == 3 * 7500 + 4500


def test_a_dish_without_groups_costs_its_price() -> None:
    chai = dish("Chai", 1500)
    body = order(line(chai, 2))
    priced = price_lines(body.items, {chai.id: chai})
    assert priced[0].line_total == 3000 and priced[0].options_snapshot() == []
    assert check_prices(body, priced, delivery_fee=2000) == 5000


def test_delivery_fee_is_added_once() -> None:
    dosa = dish("Dosa", 4500, FILLING)
    body = order(line(dosa, 2, opt(dosa, "Masala")), expected_total=2 * 6000 + 2000)
    priced = price_lines(body.items, {dosa.id: dosa})
    assert check_prices(body, priced, delivery_fee=2000) == 14000


def test_expected_total_mismatch_names_old_and_new() -> None:
    dosa = dish("Dosa", 4500, FILLING)
    body = order(line(dosa, 2, opt(dosa, "Masala"), unit_price=4500), expected_total=9000)
    priced = price_lines(body.items, {dosa.id: dosa})
    with pytest.raises(PriceChanged) as caught:
        check_prices(body, priced, delivery_fee=0)
    assert caught.value.message == "Prices have changed since you looked; the total is now ₹120"
    assert caught.value.details == [
        {
            "menu_item_id": str(dosa.id),
            "name": "Dosa",
            "reason": "price_changed",
            "old_price": 4500,
            "new_price": 6000,
        },
        {
            "field": "expected_total",
            "reason": "total_changed",
            "old_total": 9000,
            "new_total": 12000,
        },
    ]


def test_the_canteens_limit_counts_the_options() -> None:
    dosa = dish("Dosa", 4500, FILLING)
    config = CanteenConfig(max_items_per_order=20, max_order_total=10000)
    body = order(line(dosa, 2, opt(dosa, "Masala")))  # 12000 with the filling, 9000 without
    with pytest.raises(OrderTooLarge) as caught:
        check_size(config, price_lines(body.items, {dosa.id: dosa}), delivery_fee=0)
    assert caught.value.details == [
        {
            "field": "total",
            "issue": "total_too_large",
            "message": "One order may come to at most ₹100",
            "limit": 10000,
            "requested": 12000,
        }
    ]


def test_unavailable_and_unknown_options_are_the_menus_state() -> None:
    dosa = dish("Dosa", 4500, FILLING)
    gone = str(uuid.uuid4())
    body = order(line(dosa, 1, opt(dosa, "Cheese")), line(dosa, 1, gone, gone))
    problems = missing_options(body.items, {dosa.id: dosa})
    assert [(p["field"], p["issue"], p["option_id"]) for p in problems] == [
        ("items.0.options", "option_unavailable", opt(dosa, "Cheese")),
        ("items.1.options", "option_not_found", gone),  # once, though sent twice
    ]
    assert issubclass(ItemUnavailable, Exception)


def test_counts_are_checked_per_group_all_at_once() -> None:
    dosa = dish("Dosa", 4500, FILLING, {**EXTRAS, "max_select": 1})
    body = order(
        line(dosa, 1, opt(dosa, "Butter")),
        line(
            dosa, 1, opt(dosa, "Plain"), opt(dosa, "Masala"), opt(dosa, "Butter"), opt(dosa, "Podi")
        ),
    )
    with pytest.raises(ValidationFailed) as caught:
        check_option_counts(body.items, {dosa.id: dosa})
    assert [(d["field"], d["issue"], d["group"]) for d in caught.value.details] == [
        ("items.0.options", "too_few_options", "Filling"),
        ("items.1.options", "too_many_options", "Filling"),
        ("items.1.options", "too_many_options", "Extras"),
    ]
