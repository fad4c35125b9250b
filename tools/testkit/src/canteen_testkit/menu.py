"""A small menu written straight to the database, for the suites that order from it.

One writer, `write_menu`; each suite names its dishes (the backend's order tests and the
SDK's tests want slightly different menus) and wraps the ids in its own dataclass."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any


@dataclass(frozen=True)
class Dish:
    name: str
    price: int  # paise
    category: str
    slots: tuple[str, ...]  # "allday", "lunch"
    values: Mapping[str, Any] = field(default_factory=dict)  # any other MenuItem column


async def write_menu(
    container: Any,
    *,
    categories: Sequence[str],
    dishes: Sequence[Dish],
    config: Mapping[str, Any],
) -> dict[str, uuid.UUID]:
    """An all-day slot (00:00-23:59:59) and a lunch slot (12:00-15:00), the categories in
    order, the dishes (veg, available, 10 minutes unless `values` says otherwise) and the
    canteen's config. Returns the ids of the categories and dishes by name."""
    from canteen.menu.config import get_config
    from canteen.menu.models import Category, TimeSlot

    async with container.sessionmaker() as s, s.begin():
        slots = {
            "allday": TimeSlot(
                code="allday",
                label="All day",
                start_time=time(0, 0),
                end_time=time(23, 59, 59),
                is_active=True,
                sort_order=0,
            ),
            "lunch": TimeSlot(
                code="lunch",
                label="Lunch",
                start_time=time(12, 0),
                end_time=time(15, 0),
                is_active=True,
                sort_order=1,
            ),
        }
        cats = {
            name: Category(name=name, sort_order=i, is_active=True)
            for i, name in enumerate(categories)
        }
        s.add_all([*slots.values(), *cats.values()])
        await s.flush()
        items = [
            _item(dish, cats[dish.category].id, [slots[c] for c in dish.slots]) for dish in dishes
        ]
        s.add_all(items)
        await s.flush()
        canteen = await get_config(s)
        for key, value in config.items():
            setattr(canteen, key, value)
        ids = {name: cat.id for name, cat in cats.items()}
        ids.update({item.name: item.id for item in items})
        return ids


def _item(dish: Dish, category_id: uuid.UUID, slots: list[Any]) -> Any:
    from canteen.menu.models import MenuItem

    values: dict[str, Any] = {
        "category_id": category_id,
        "name": dish.name,
        "description": dish.name,
        "price": dish.price,
        "diet": "veg",
        "allergens": [],
        "is_available": True,
        "prep_minutes": 10,
        "daily_stock": None,
        "stock_remaining": None,
        "sort_order": 0,
        "slots": slots,
    }
    values.update(dish.values)
    return MenuItem(**values)
