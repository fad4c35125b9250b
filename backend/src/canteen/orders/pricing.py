"""What an order costs: the chosen options checked against the dish, each line priced
(base price + the options' deltas), and the checks on the result the customer agreed to
(the prices they saw, the canteen's limits on one order).

Pure functions over the catalogue (canteen.menu.catalogue): no database, so they are
unit-tested alone (backend/tests/unit/test_pricing.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from canteen.core.errors import Conflict, ValidationFailed, field_error
from canteen.menu.catalogue import ItemInfo
from canteen.menu.models import CanteenConfig
from canteen.menu.options import OptionInfo
from canteen.orders.schemas import OrderCreate, OrderLineIn


class ItemUnavailable(Conflict):
    code = "ITEM_UNAVAILABLE"
    message = "One or more items are no longer available"


class PriceChanged(Conflict):
    code = "PRICE_CHANGED"
    message = "Prices have changed since you looked"


class OrderTooLarge(Conflict):
    code = "ORDER_TOO_LARGE"
    message = "This order is larger than the canteen takes"


@dataclass(frozen=True, slots=True)
class PricedLine:
    item: ItemInfo
    quantity: int
    # In the dish's own order (group, then option), whatever order the request gave.
    options: tuple[OptionInfo, ...]

    @property
    def unit_price(self) -> int:
        return self.item.price + sum(o.price_delta for o in self.options)

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity

    def options_snapshot(self) -> list[dict[str, Any]]:
        """What the order line keeps: names and prices as they were."""
        groups = {g.id: g.name for g in self.item.options.groups}
        return [
            {
                "id": str(o.id),
                "group": groups.get(o.group_id, ""),
                "name": o.name,
                "price_delta": o.price_delta,
            }
            for o in self.options
        ]


def missing_options(
    lines: Sequence[OrderLineIn], known: dict[uuid.UUID, ItemInfo]
) -> list[dict[str, Any]]:
    """Chosen options that are gone or switched off: the menu's state, reported with the
    dishes' own problems as 409 ITEM_UNAVAILABLE (the student chooses again). Lines whose
    dish is itself unknown are the dish's problem, not the options'."""
    gone: list[dict[str, Any]] = []
    for index, line in enumerate(lines):
        item = known.get(line.menu_item_id)
        if item is None:
            continue
        for option_id in dict.fromkeys(line.options):
            option = item.options.get(option_id)
            if option is not None and option.is_available:
                continue
            reason = "option_not_found" if option is None else "option_unavailable"
            gone.append(
                field_error(
                    f"items.{index}.options",
                    reason,
                    f"{item.name}: that choice is no longer on the menu"
                    if option is None
                    else f"{item.name}: {option.name} is not available right now",
                    reason=reason,
                    menu_item_id=str(item.id),
                    option_id=str(option_id),
                    name=item.name,
                    **({"option": option.name} if option is not None else {}),
                )
            )
    return gone


def check_option_counts(lines: Sequence[OrderLineIn], known: dict[uuid.UUID, ItemInfo]) -> None:
    """Too few, too many or a repeated option: the request's mistakes, all at once (400)."""
    wrong: list[dict[str, Any]] = []
    for index, line in enumerate(lines):
        wrong.extend(_count_problems(index, line, known[line.menu_item_id]))
    if wrong:
        raise ValidationFailed(details=wrong)


def _count_problems(index: int, line: OrderLineIn, item: ItemInfo) -> Iterable[dict[str, Any]]:
    field = f"items.{index}.options"
    repeated = {o for o in line.options if line.options.count(o) > 1}
    for option_id in sorted(repeated, key=line.options.index):
        yield field_error(
            field,
            "duplicate_option",
            "The same option is chosen twice",
            menu_item_id=str(item.id),
            option_id=str(option_id),
        )
    chosen = set(line.options)
    for group in item.options.groups:
        count = sum(1 for o in group.option_ids if o in chosen)
        extra = {
            "menu_item_id": str(item.id),
            "name": item.name,
            "group_id": str(group.id),
            "group": group.name,
            "chosen": count,
        }
        if count < group.min_select:
            yield field_error(
                field,
                "too_few_options",
                f"{item.name}: choose {group.min_select} or more from {group.name}"
                if group.min_select > 1
                else f"{item.name}: choose {group.name}",
                min_select=group.min_select,
                **extra,
            )
        elif count > group.max_select:
            yield field_error(
                field,
                "too_many_options",
                f"{item.name}: choose at most {group.max_select} from {group.name}",
                max_select=group.max_select,
                **extra,
            )


def price_lines(lines: Sequence[OrderLineIn], known: dict[uuid.UUID, ItemInfo]) -> list[PricedLine]:
    """The lines with their options resolved (checked by `missing_options` and
    `check_option_counts` first)."""
    priced: list[PricedLine] = []
    for line in lines:
        item = known[line.menu_item_id]
        chosen = set(line.options)
        options = tuple(
            option
            for group in item.options.groups
            for option_id in group.option_ids
            if option_id in chosen and (option := item.options.get(option_id)) is not None
        )
        priced.append(PricedLine(item=item, quantity=line.quantity, options=options))
    return priced


def check_size(config: CanteenConfig, priced: Sequence[PricedLine], delivery_fee: int) -> None:
    """The canteen's limits on one order (settings), every breach reported at once."""
    quantity = sum(line.quantity for line in priced)
    total = sum(line.line_total for line in priced) + delivery_fee
    problems: list[dict[str, Any]] = []
    if quantity > config.max_items_per_order:
        problems.append(
            field_error(
                "items",
                "too_many_items",
                f"One order may hold at most {config.max_items_per_order} items",
                limit=config.max_items_per_order,
                requested=quantity,
            )
        )
    if total > config.max_order_total:
        problems.append(
            field_error(
                "total",
                "total_too_large",
                f"One order may come to at most {rupees(config.max_order_total)}",
                limit=config.max_order_total,
                requested=total,
            )
        )
    if problems:
        raise OrderTooLarge(problems[0]["message"], details=problems)


def check_prices(body: OrderCreate, priced: Sequence[PricedLine], delivery_fee: int) -> int:
    """The customer agreed to the prices they saw: if ours differ, ask before placing.
    Returns the total (options and delivery fee included)."""
    changed: list[dict[str, Any]] = []
    for line, priced_line in zip(body.items, priced, strict=True):
        unit = priced_line.unit_price
        if line.unit_price is not None and line.unit_price != unit:
            changed.append(
                {
                    "menu_item_id": str(priced_line.item.id),
                    "name": priced_line.item.name,
                    "reason": "price_changed",
                    "old_price": line.unit_price,
                    "new_price": unit,
                }
            )
    total = sum(line.line_total for line in priced) + delivery_fee
    if body.expected_total is not None and body.expected_total != total:
        changed.append(
            {
                "field": "expected_total",
                "reason": "total_changed",
                "old_total": body.expected_total,
                "new_total": total,
            }
        )
    if changed:
        raise PriceChanged(
            f"Prices have changed since you looked; the total is now {rupees(total)}",
            details=changed,
        )
    return total


def rupees(paise: int) -> str:
    return f"₹{paise // 100}" if paise % 100 == 0 else f"₹{paise / 100:.2f}"
