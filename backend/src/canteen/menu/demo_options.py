"""The demo menu's shapes and its dishes' option groups (in the admin API's shape,
canteen.menu.options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _group(name: str, options: tuple[tuple[str, int], ...], **rules: Any) -> dict[str, Any]:
    return {"name": name, "options": [{"name": n, "price_delta": d} for n, d in options], **rules}


# Where a real canteen asks (issue 16): a choice that must be made, one that may be.
DOSA_FILLING = _group(
    "Filling", (("Plain", 0), ("Masala", 1500), ("Cheese", 3000)), kind="single", required=True
)
THALI_PORTION = _group("Portion", (("Half", 0), ("Full", 6000)), kind="single", required=True)
THALI_EXTRAS = _group("Extras", (("Extra roti", 1000), ("Extra sweet", 2000)), kind="multiple")
BIRYANI_EXTRAS = _group("Extras", (("Raita", 2000), ("Boiled egg", 1500)), kind="multiple")
CHAI_SUGAR = _group("Sugar", (("Regular", 0), ("Less sugar", 0), ("No sugar", 0)), kind="single")


@dataclass(frozen=True)
class DemoItem:
    name: str
    description: str
    price: int  # paise
    diet: str
    slots: tuple[str, ...]
    allergens: tuple[str, ...] = ()
    prep_minutes: int = 10
    daily_stock: int | None = None
    option_groups: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class DemoCategory:
    name: str
    items: tuple[DemoItem, ...] = field(default_factory=tuple)
