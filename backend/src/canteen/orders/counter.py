"""The counter and the door (issue 17): finding a ready order by its pickup code, and the
record of cash taken when an order is handed over or delivered."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.errors import NotFound
from canteen.orders.errors import OrderNotCollected
from canteen.orders.models import Order, OrderStatus, OrderType, PaymentMethod, PaymentStatus
from canteen.users.models import User


class NoReadyOrder(NotFound):
    code = "ORDER_NOT_FOUND"


async def ready_by_pickup_code(
    session: AsyncSession, code: str, *, now: datetime, tz: ZoneInfo
) -> list[tuple[Order, User]]:
    """Ready pickup orders with this code, oldest ready first.

    Codes are 4 digits, so two ready orders may share one; the counter is shown both and
    asks for the order number. No ready match is 404 (unknown, not ready yet, already
    handed over), except a code whose order of today was not collected in time: 409
    ORDER_NOT_COLLECTED, so the counter can tell the student why (issue 16).
    """
    rows = await session.execute(
        select(Order, User)
        .join(User, User.id == Order.customer_id)
        .where(
            Order.pickup_code == code,
            Order.status == OrderStatus.ready,
            Order.order_type == OrderType.pickup,
        )
        .order_by(Order.ready_at, Order.created_at)
    )
    found = [(o, u) for o, u in rows.tuples()]
    if not found:
        await _refuse_not_collected(session, code, now.astimezone(tz).date(), tz)
        raise NoReadyOrder(f"No ready order has the pickup code {code}")
    return found


async def _refuse_not_collected(
    session: AsyncSession, code: str, business_date: date, tz: ZoneInfo
) -> None:
    """Raise for today's latest uncollected pickup order with this code; codes repeat
    across days, so an older one says nothing about the student at the counter."""
    missed = await session.scalar(
        select(Order)
        .where(
            Order.pickup_code == code,
            Order.status == OrderStatus.not_collected,
            Order.order_type == OrderType.pickup,
            Order.business_date == business_date,
        )
        .order_by(Order.ready_at.desc(), Order.created_at.desc())
        .limit(1)
    )
    if missed is not None:
        ready = missed.ready_at.astimezone(tz).strftime("%H:%M") if missed.ready_at else None
        raise OrderNotCollected.at_counter(missed.number, ready)


def collect_cash(order: Order, actor_id: uuid.UUID | None, now: datetime) -> dict[str, Any]:
    """Mark a cash order's money as taken by `actor_id`, once; returns what the status
    event records of it (`cash_collected` in paise and who took it), or nothing."""
    if order.payment_method != PaymentMethod.cash or order.payment_status != PaymentStatus.cash_due:
        return {}
    order.payment_status = PaymentStatus.paid
    order.cash_collected_at = now
    order.cash_collected_by = actor_id
    order.cash_collected_amount = order.total
    return {
        "cash_collected": order.total,
        "cash_collected_by": str(actor_id) if actor_id else None,
    }


def return_cash(order: Order) -> None:
    """A recalled handover or delivery: the cash counts as not taken (cash_due again), so
    the drawer's totals, read from these columns, drop it."""
    if order.payment_method != PaymentMethod.cash:
        return
    order.payment_status = PaymentStatus.cash_due
    order.cash_collected_at = None
    order.cash_collected_by = None
    order.cash_collected_amount = None
