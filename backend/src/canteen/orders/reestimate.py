"""Re-estimating open orders as the queue moves (issue 16, part 3).

Orders' own, as it moves orders and records their events; the kitchen's measured times
come from `kitchen.eta` (orders -> kitchen, never back: no import circle).
A periodic job (kitchen.reestimate in orders/tasks.py, PERIODIC) looks at the orders
the kitchen holds (confirmed, preparing) with the dishes' latest measured times:
- preparing: ready when its slowest dish's cooking time after it started has passed, or
  now if that is already over (the kitchen is late);
- confirmed: not before its estimate, nor before its cooking time from now (a kitchen
  that has not started it yet pushes it later).
A move of MOVE_SECONDS or more is saved and said in an `order.eta_changed` event (the
order socket carries it to the student's tracking); one of more than NOTIFY_SECONDS from
what the student was last told (`promised_ready_at`) asks for a push too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.clock import iso_z
from canteen.events.types import EventType
from canteen.kitchen import eta
from canteen.orders.events import record_order_event
from canteen.orders.models import Order, OrderStatus

MOVE_SECONDS = 120
NOTIFY_SECONDS = 5 * 60
BATCH = 500

_OPEN = (
    select(Order)
    .where(
        Order.status.in_([OrderStatus.confirmed, OrderStatus.preparing]),
        Order.estimated_ready_at.is_not(None),
    )
    .order_by(Order.estimated_ready_at)
    .limit(BATCH)
    # Two workers never move one order twice: the second skips rows the first holds.
    .with_for_update(skip_locked=True)
)


def new_estimate(order: Order, own: float, now: datetime) -> datetime:
    assert order.estimated_ready_at is not None
    cooking = timedelta(seconds=own)
    if order.status == OrderStatus.preparing and order.preparing_at is not None:
        return max(order.preparing_at + cooking, now)
    return max(order.estimated_ready_at, now + cooking)


async def reestimate(session: AsyncSession, now: datetime) -> int:
    """Move the open orders' estimates; returns how many moved."""
    orders = list(await session.scalars(_OPEN))
    measured = await eta.stage_seconds(
        session, (line.menu_item_id for o in orders for line in o.items)
    )
    moved = 0
    for order in orders:
        own = eta.own_seconds(
            ((li.menu_item_id, li.prep_minutes) for li in order.items),
            measured,
            waiting=order.status != OrderStatus.preparing,  # started: only cooking is left
        )
        before = order.estimated_ready_at
        assert before is not None
        after = new_estimate(order, own, now)
        if abs((after - before).total_seconds()) < MOVE_SECONDS:
            continue
        promised = order.promised_ready_at or before
        notify = abs((after - promised).total_seconds()) > NOTIFY_SECONDS
        order.estimated_ready_at = after
        if notify:
            order.promised_ready_at = after
        await record_order_event(
            session,
            EventType.order_eta_changed,
            order,
            data={
                "from": iso_z(before),
                "to": iso_z(after),
                "minutes": round((after - before).total_seconds() / 60),
                "notify": notify,
            },
        )
        moved += 1
    return moved
