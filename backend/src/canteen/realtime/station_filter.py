"""The kitchen stream for one station (`?station=<id>`): the same log, the same seqs and
the same replay by Last-Event-ID, with the order events of orders that have no line at
that station left out. Menu and settings events pass; a reconnect resumes from the last
id it saw, and what was left out before it is never needed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from canteen.core.container import Container
from canteen.events.models import Event
from canteen.menu.models import MenuItem
from canteen.orders.models import OrderItem
from canteen.realtime.hub import KITCHEN_TYPES

BATCH = 500


def station_reader(station_id: uuid.UUID) -> Callable[[Container, int], Awaitable[list[Event]]]:
    async def read(c: Container, after: int) -> list[Event]:
        """Up to BATCH matching events after `after`. Reads on past batches that match
        nothing, so a stream is never left waiting while the log holds more for it."""
        kept: list[Event] = []
        async with c.sessionmaker() as session:
            while len(kept) < BATCH:
                events = list(
                    await session.scalars(
                        select(Event)
                        .where(Event.seq > after, Event.type.in_(KITCHEN_TYPES))
                        .order_by(Event.seq)
                        .limit(BATCH)
                    )
                )
                order_ids = {e.order_id for e in events if e.order_id is not None}
                mine = set()
                if order_ids:
                    mine = set(
                        await session.scalars(
                            select(OrderItem.order_id)
                            .join(MenuItem, MenuItem.id == OrderItem.menu_item_id)
                            .where(
                                OrderItem.order_id.in_(order_ids),
                                MenuItem.station_id == station_id,
                            )
                            .distinct()
                        )
                    )
                kept.extend(e for e in events if e.order_id is None or e.order_id in mine)
                if len(events) < BATCH:
                    break
                after = events[-1].seq
        return kept[:BATCH]

    return read
