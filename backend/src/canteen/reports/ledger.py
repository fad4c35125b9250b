"""The cash drawer and the refund and feedback lists.

Who collected a cash order, when and how much is read from the order's cash columns
(`cash_collected_by`, `_at`, `_amount`), set at the handover or the delivery and cleared
by a recall. The lists are statements that
the JSON pages and the CSV stream share, so both give the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.orders.models import Order, OrderItem, OrderStatus, PaymentMethod
from canteen.payments.models import Refund
from canteen.reports.queries import Window
from canteen.reports.schemas import CashDay, FeedbackRow, RefundRow, StaffCash
from canteen.reports.zone import local_iso
from canteen.users.models import User

NOBODY = "(no staff recorded)"


async def cash_drawer(session: AsyncSession, w: Window) -> list[CashDay]:
    # The handover's own columns, which a recall clears: a recalled handover is not
    # counted (its event stays in the log), a second handover counts for who made it.
    taken = w.zone.day(Order.cash_collected_at)
    cash = Order.payment_method == PaymentMethod.cash
    collected = await session.execute(
        select(
            taken,
            Order.cash_collected_by,
            func.max(User.name),
            func.count(),
            func.sum(Order.cash_collected_amount),
        )
        .outerjoin(User, User.id == Order.cash_collected_by)
        .where(Order.cash_collected_at >= w.start, Order.cash_collected_at < w.end)
        .group_by(taken, Order.cash_collected_by)
    )
    ready = w.zone.day(Order.ready_at)
    due = await session.execute(
        select(ready, func.sum(Order.total))
        .where(
            cash,
            Order.status != OrderStatus.cancelled,
            Order.ready_at >= w.start,
            Order.ready_at < w.end,
        )
        .group_by(ready)
    )
    staff: dict[str, list[StaffCash]] = defaultdict(list)
    for day, actor_id, name, count, total in collected:
        staff[str(day)].append(
            StaffCash(
                staff_id=actor_id,
                name=name or NOBODY,
                handed_over=int(count),
                collected=int(total or 0),
            )
        )
    dues = {str(day): int(total or 0) for day, total in due}
    days = []
    for day in sorted(set(staff) | set(dues)):
        people = sorted(staff.get(day, []), key=lambda s: (-s.collected, s.name))
        got = sum(s.collected for s in people)
        days.append(
            CashDay(
                day=date.fromisoformat(day),
                due=dues.get(day, 0),
                collected=got,
                difference=dues.get(day, 0) - got,
                staff=people,
            )
        )
    return days


def refunds_statement(w: Window) -> Select[Any]:
    return (
        select(
            Refund.order_id,
            Order.number,
            Refund.created_at,
            Refund.amount,
            Refund.reason,
            Refund.status,
            Refund.gateway_refund_id,
        )
        .join(Order, Order.id == Refund.order_id)
        .where(Refund.created_at >= w.start, Refund.created_at < w.end)
        .order_by(Refund.created_at, Refund.id)
    )


def refund_row(row: Any, tz: ZoneInfo) -> RefundRow:
    order_id, number, at, amount, reason, status, gateway_id = row
    return RefundRow(
        order_id=order_id,
        order_number=number,
        at=local_iso(at, tz) or "",
        amount=amount,
        reason=reason,
        status=status,
        gateway_refund_id=gateway_id,
    )


def feedback_statement(w: Window, rating: int | None) -> Select[Any]:
    line = cast(OrderItem.quantity, String) + "x " + OrderItem.name
    items = (
        select(func.aggregate_strings(line, ", "))
        .where(OrderItem.order_id == Order.id)
        .scalar_subquery()
    )
    stmt = (
        select(
            Order.id,
            Order.number,
            Order.feedback_at,
            Order.feedback_rating,
            Order.feedback_comment,
            items,
        )
        .where(
            Order.feedback_at >= w.start,
            Order.feedback_at < w.end,
            Order.feedback_rating.is_not(None),
        )
        .order_by(Order.feedback_at, Order.id)
    )
    return stmt if rating is None else stmt.where(Order.feedback_rating == rating)


def feedback_row(row: Any, tz: ZoneInfo) -> FeedbackRow:
    order_id, number, at, rating, comment, items = row
    return FeedbackRow(
        order_id=order_id,
        order_number=number,
        at=local_iso(at, tz) or "",
        rating=rating,
        comment=comment,
        items=items or "",
    )


async def page(
    session: AsyncSession, stmt: Select[Any], offset: int, limit: int
) -> tuple[list[Any], int]:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(await session.execute(stmt.offset(offset).limit(limit)))
    return rows, int(total or 0)
