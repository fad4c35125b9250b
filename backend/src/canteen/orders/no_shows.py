"""No-shows (issue 16): ready pickup orders nobody collected, and what they cost the customer.

A pickup order still `ready` `collection_window_minutes` after it was ready becomes
`not_collected` (a terminal status) by the sweep `orders.sweep_not_collected`; each one
counts against its customer (`users.no_show_count`, raised in the same transaction), and
past the canteen's `no_show_cash_limit` that customer may only pay by UPI. A paid UPI
order that is not collected keeps its money: the food was made (an admin may refund it
by hand, `payments.manual_refund`). The student is reminded when the order is ready (the
status push and SMS) and five minutes before the window closes (`push.collection_reminders`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.core.errors import field_error
from canteen.menu import service as menu
from canteen.menu.models import CanteenConfig
from canteen.orders import service as orders
from canteen.orders.errors import CashNotAllowed
from canteen.orders.models import Order, OrderStatus, OrderType, PaymentMethod
from canteen.orders.state import Actor
from canteen.users.models import User

# The second reminder goes this long before the window closes.
REMINDER_BEFORE = timedelta(minutes=5)


def cash_allowed(config: CanteenConfig, no_show_count: int) -> bool:
    limit = config.no_show_cash_limit
    return limit is None or no_show_count < limit


def cash_enabled_for(config: CanteenConfig, no_show_count: int) -> bool:
    """Whether a customer may pay cash: the canteen takes it and the customer is within
    its no-show limit."""
    return config.cash_payment_enabled and cash_allowed(config, no_show_count)


def check_cash_allowed(config: CanteenConfig, user: User, payment_method: str) -> None:
    """Refuse cash to a customer who has reached the canteen's no-show limit."""
    if payment_method != PaymentMethod.cash or cash_allowed(config, user.no_show_count):
        return
    count = user.no_show_count
    message = (
        f"Cash is not available for this account: {count} earlier "
        f"{'order was' if count == 1 else 'orders were'} not collected "
        f"(limit {config.no_show_cash_limit}). Pay by UPI instead"
    )
    raise CashNotAllowed(
        message,
        details=[
            field_error(
                "payment_method",
                "cash_not_allowed",
                message,
                value="cash",
                no_show_count=count,
                no_show_cash_limit=config.no_show_cash_limit,
            )
        ],
    )


def _window(config: CanteenConfig) -> timedelta:
    return timedelta(minutes=config.collection_window_minutes)


_READY_PICKUP = (Order.status == OrderStatus.ready, Order.order_type == OrderType.pickup)


async def uncollected(c: Container, session: AsyncSession, *, limit: int = 100) -> list[uuid.UUID]:
    """Ready pickup orders whose collection window has closed, oldest first."""
    config = await menu.get_config(session)
    closed = c.clock.now() - _window(config)
    rows = await session.scalars(
        select(Order.id)
        .where(*_READY_PICKUP, Order.ready_at <= closed)
        .order_by(Order.ready_at)
        .limit(limit)
    )
    return list(rows)


async def mark_not_collected(c: Container, session: AsyncSession, order_id: uuid.UUID) -> bool:
    """Move one order to not_collected and count it against its customer; False if it
    was collected, recalled or already moved meanwhile (a concurrent sweep waits on the
    row lock and then finds it moved: one transition and one event per order)."""
    order = await orders.lock_order(session, order_id)
    config = await menu.get_config(session)
    now = c.clock.now()
    if not _due(order, now - _window(config)):
        return False
    await orders.transition(
        session,
        order,
        OrderStatus.not_collected,
        actor=Actor.system,
        actor_id=None,
        now=now,
        reason=f"not collected within {config.collection_window_minutes} minutes",
    )
    await session.execute(
        update(User)
        .where(User.id == order.customer_id)
        .values(no_show_count=User.no_show_count + 1)
    )
    return True


def _due(order: Order, closed: datetime) -> bool:
    return (
        order.status == OrderStatus.ready
        and order.order_type == OrderType.pickup
        and order.ready_at is not None
        and order.ready_at <= closed
    )


async def reminders_due(
    c: Container, session: AsyncSession, *, limit: int = 200
) -> list[tuple[uuid.UUID, str, int]]:
    """(order id, number, minutes left) of ready pickup orders within the last five
    minutes of their window."""
    config = await menu.get_config(session)
    now = c.clock.now()
    window = _window(config)
    rows = await session.execute(
        select(Order.id, Order.number, Order.ready_at)
        .where(
            *_READY_PICKUP,
            Order.ready_at <= now - max(window - REMINDER_BEFORE, timedelta(0)),
            Order.ready_at > now - window,
        )
        .order_by(Order.ready_at)
        .limit(limit)
    )
    return [
        (oid, number, _minutes_left(ready_at + window - now))
        for oid, number, ready_at in rows.tuples()
        if ready_at is not None
    ]


def _minutes_left(left: timedelta) -> int:
    return max(1, round(left.total_seconds() / 60))
