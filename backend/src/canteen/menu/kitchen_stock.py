"""The kitchen's "86" from the board: how many portions of a dish are left today.

The on/off switch is `PATCH /admin/menu/items/{id}/availability`; this sets the count, so
the kitchen never needs the admin's item editor in the middle of a rush. Both record a
`menu.updated` event, which students' open menus and carts hear on the menu stream.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from canteen.core.errors import NotFound
from canteen.core.strict import JsonInt
from canteen.events.service import record_event
from canteen.events.types import EventType
from canteen.menu.config import bump_menu_version
from canteen.menu.models import MenuItem

MAX_LEFT = 100_000

StockLeft = Annotated[int, Field(ge=0, le=MAX_LEFT), JsonInt]


class StockUpdate(BaseModel):
    stock_remaining: StockLeft | None = Field(
        description="Portions left today (0 = sold out); null = no count today"
    )


async def set_stock_left(
    session: AsyncSession, item_id: uuid.UUID, left: int | None, *, actor_id: uuid.UUID
) -> MenuItem:
    item = await session.scalar(
        select(MenuItem)
        .options(selectinload(MenuItem.slots))
        .where(MenuItem.id == item_id)
        .with_for_update(of=MenuItem)
    )
    if item is None:
        raise NotFound("No menu item with this id")
    if item.stock_remaining != left:
        item.stock_remaining = left
        await session.flush()
        version = await bump_menu_version(session)
        await record_event(
            session,
            EventType.menu_updated,
            data={
                "entity": "item",
                "action": "stock_set",
                "id": str(item.id),
                "name": item.name,
                "changes": ["stock_remaining"],
                "stock_remaining": left,
                "sold_out": item.sold_out,
                "menu_version": version,
            },
            actor_id=actor_id,
        )
    return item
