"""The demo canteen's menu: a typical Indian campus canteen, four serving windows.

Prices are in paise. Loaded by `canteen seed-demo` and on the embedded first start;
idempotent (slots by code, categories by name, items by name within their category).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.events.service import record_event
from canteen.events.types import EventType
from canteen.menu.config import bump_menu_version, get_config
from canteen.menu.demo_data import DEMO_MENU, DEMO_SLOTS
from canteen.menu.models import Allergen, Category, MenuItem, TimeSlot
from canteen.menu.options import OptionGroupIn, normalise_groups

log = logging.getLogger("canteen.demo")

_ALLERGEN_ORDER = [a.value for a in Allergen]


async def seed_menu(session: AsyncSession) -> int:
    """Add whatever part of the demo menu is missing; returns how many rows were added."""
    await get_config(session)
    added = 0
    slots = {s.code: s for s in await session.scalars(select(TimeSlot))}
    for order, (code, label, start, end) in enumerate(DEMO_SLOTS):
        if code not in slots:
            slots[code] = TimeSlot(
                id=uuid.uuid4(),
                code=code,
                label=label,
                start_time=start,
                end_time=end,
                is_active=True,
                sort_order=order,
            )
            session.add(slots[code])
            added += 1
    categories = {c.name: c for c in await session.scalars(select(Category))}
    existing = {(i.category_id, i.name) for i in await session.scalars(select(MenuItem))}
    for c_order, demo in enumerate(DEMO_MENU):
        category = categories.get(demo.name)
        if category is None:
            category = Category(id=uuid.uuid4(), name=demo.name, sort_order=c_order, is_active=True)
            session.add(category)
            added += 1
        for i_order, d in enumerate(demo.items):
            if (category.id, d.name) in existing:
                continue
            session.add(
                MenuItem(
                    id=uuid.uuid4(),
                    category_id=category.id,
                    name=d.name,
                    description=d.description,
                    price=d.price,
                    diet=d.diet,
                    allergens=sorted(d.allergens, key=_ALLERGEN_ORDER.index),
                    image_keys=[],
                    is_available=True,
                    prep_minutes=d.prep_minutes,
                    daily_stock=d.daily_stock,
                    stock_remaining=d.daily_stock,
                    sort_order=i_order,
                    slots=[slots[code] for code in d.slots],
                    option_groups=_groups(d.option_groups),
                )
            )
            added += 1
    if added:
        await session.flush()
        version = await bump_menu_version(session)
        await record_event(
            session,
            EventType.menu_updated,
            data={
                "entity": "menu",
                "action": "demo_loaded",
                "rows": added,
                "menu_version": version,
            },
        )
        log.info("demo menu loaded (%d rows)", added)
    return added


def _groups(groups: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    stored = normalise_groups([OptionGroupIn.model_validate(g) for g in groups], problems)
    assert not problems, problems  # the demo data is ours: a mistake in it is a bug
    return stored
