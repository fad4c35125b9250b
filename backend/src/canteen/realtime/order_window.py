"""When the order socket of a finished order closes (issue 17, part 6).

A handover or a staff cancel may be recalled for 5 minutes (orders.recall), so until
then the status is not final: the socket stays open to deliver `order.recalled` and
what follows. A status nothing can undo (the student's cancel, not collected, a cancel
whose refund has started, a recall window passed) closes at once, as before.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.orders.models import Order
from canteen.orders.recall import recallable_until
from canteen.orders.state import TERMINAL

# How often a socket in a recall window looks at the clock (no database read; the
# clock is injectable, so tests move it rather than wait 5 minutes).
WINDOW_CHECK_SECONDS = 1.0
# A recall accepted just before the window's end may still be committing or on the bus.
CLOSE_SLACK = timedelta(seconds=2)


async def closing_time(session: AsyncSession, order: Order, now: datetime) -> datetime | None:
    """None while the order is open; else when its socket closes (`now` when final)."""
    if order.status not in TERMINAL:
        return None
    until = await recallable_until(session, order)
    return now if until is None else max(now, until + CLOSE_SLACK)


async def read_closing_time(c: Container, order_id: uuid.UUID) -> datetime | None:
    """`closing_time` from the database as it is now (an order that is gone: now)."""
    now = c.clock.now()
    async with c.sessionmaker() as session:
        order = await session.get(Order, order_id)
        if order is None:
            return now
        return await closing_time(session, order, now)
