"""What placing an order needs to know about the menu, kept per process.

Placing an order used to read the time slots, the items with their slots and the active
categories on every request. Those change only when staff edit the menu, and every such
edit bumps `catalogue_version` in the settings row in the same transaction. Placement
reads that row anyway (open? paused? which payment methods?), so comparing the version
tells it, without another query, whether this process's copy is current.

Stock is not part of it: it moves with every order, so placement reads it fresh (and
takes it with a conditional UPDATE).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from canteen.menu.cache import SlotView
from canteen.menu.models import Category, MenuItem, TimeSlot
from canteen.menu.options import NO_OPTIONS, ItemOptions, item_options


@dataclass(frozen=True, slots=True)
class ItemInfo:
    id: uuid.UUID
    name: str
    price: int
    prep_minutes: int
    orderable: bool  # switched on, in an active category
    slot_ids: frozenset[uuid.UUID]
    tracks_stock: bool  # has a daily count (stock_remaining is not NULL)
    options: ItemOptions = NO_OPTIONS


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: int
    items: dict[uuid.UUID, ItemInfo]
    slots: tuple[SlotView, ...]

    def slot(self, code: str) -> SlotView | None:
        return next((s for s in self.slots if s.code == code), None)


async def load_catalogue(session: AsyncSession, version: int) -> Catalogue:
    slots = tuple(
        SlotView(s.id, s.code, s.start_time, s.end_time, s.is_active, s.sort_order)
        for s in await session.scalars(select(TimeSlot))
    )
    rows = await session.execute(
        select(MenuItem, Category.is_active)
        .join(Category, Category.id == MenuItem.category_id)
        .options(selectinload(MenuItem.slots))
    )
    items = {
        item.id: ItemInfo(
            id=item.id,
            name=item.name,
            price=item.price,
            prep_minutes=item.prep_minutes,
            orderable=item.is_available and category_active,
            slot_ids=frozenset(s.id for s in item.slots),
            tracks_stock=item.stock_remaining is not None,
            options=item_options(item.option_groups),
        )
        for item, category_active in rows.tuples()
    }
    return Catalogue(version=version, items=items, slots=slots)


class CatalogueCache:
    """The newest catalogue this process has loaded."""

    def __init__(self) -> None:
        self._current: Catalogue | None = None

    @property
    def latest(self) -> Catalogue | None:
        """The newest catalogue loaded, without asking the database which is current."""
        return self._current

    async def get(self, session: AsyncSession, version: int) -> Catalogue:
        current = self._current
        if current is not None and current.version == version:
            return current
        catalogue = await load_catalogue(session, version)
        # A request that read an older version (it started before an edit committed)
        # must not replace a newer copy.
        if current is None or version > current.version:
            self._current = catalogue
        return catalogue

    def clear(self) -> None:
        self._current = None
