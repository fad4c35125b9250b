"""A placement's counted stock: taken by conditional UPDATEs, and announced when it moved."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.events.service import record_event
from canteen.events.types import EventType
from canteen.menu import service as menu
from canteen.menu.catalogue import ItemInfo
from canteen.menu.models import MenuItem
from canteen.orders.pricing import ItemUnavailable


async def take_stock(
    session: AsyncSession,
    wanted: Counter[uuid.UUID],
    stock: dict[uuid.UUID, int | None],
    known: dict[uuid.UUID, ItemInfo],
) -> list[ItemInfo] | None:
    """Take the counted dishes' stock; returns those it sold out, or None if no stock moved.

    A conditional UPDATE: of many racing orders, only those that still fit succeed; a
    failure rolls back whatever this order already took. Rows are locked in id order so
    two orders for the same items cannot deadlock."""
    stock_changed = False
    sold_out: list[ItemInfo] = []
    for item_id, quantity in sorted(wanted.items()):
        if stock.get(item_id) is None:
            continue
        left = await session.scalar(
            update(MenuItem)
            .where(MenuItem.id == item_id, MenuItem.stock_remaining >= quantity)
            .values(stock_remaining=MenuItem.stock_remaining - quantity)
            .returning(MenuItem.stock_remaining)
            .execution_options(synchronize_session=False)
        )
        if left == 0:
            sold_out.append(known[item_id])
        if left is None:
            current = await session.scalar(
                select(MenuItem.stock_remaining).where(MenuItem.id == item_id)
            )
            raise ItemUnavailable(
                details=[
                    {
                        "menu_item_id": str(item_id),
                        "reason": "out_of_stock",
                        "name": known[item_id].name,
                        "available": max(0, current or 0),
                    }
                ]
            )
        stock_changed = True
    return sold_out if stock_changed else None


async def announce_stock(
    session: AsyncSession,
    dishes: Iterable[tuple[uuid.UUID, str]],
    action: Literal["sold_out", "back_in_stock"] = "sold_out",
) -> None:
    """Stock moved (a placement or a recall took it, a cancel gave it back): the menu
    version moves, and each dish (id, name) that sold out or came back is said at once."""
    version = await menu.mark_menu_changed(session)
    for item_id, name in dishes:
        # Students with the dish in an open cart hear it at once (realtime.menu_stream).
        await record_event(
            session,
            EventType.menu_updated,
            data={
                "entity": "item",
                "action": action,
                "id": str(item_id),
                "name": name,
                "changes": ["stock_remaining"],
                "menu_version": version,
            },
        )
