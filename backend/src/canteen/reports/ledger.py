"""The cash drawer and the refund and feedback lists.

Who collected a cash order, when and how much is read from the order's cash columns
(`cash_collected_by`, `_at`, `_amount`), set at the handover or the delivery and cleared
by a recall. The lists are statements that
the JSON pages and the CSV stream share, so both give the same rows.
"""

from __future__ import annotations

import uuid
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


# (local day, staff id or '') -> [cash orders handed over, their total]; day -> [orders, due]
Taken = dict[tuple[str, str], list[int]]
Due = dict[str, list[int]]


async def cash_drawer(session: AsyncSession, w: Window) -> list[CashDay]:
    """The cash drawer of the window, read live (the report reads closed days' lines)."""
    taken: Taken = defaultdict(lambda: [0, 0])
    due: Due = defaultdict(lambda: [0, 0])
    await collected(session, w, taken)
    await dues(session, w, due)
    return await cash_days(session, taken, due)


async def collected(session: AsyncSession, w: Window, taken: Taken) -> None:
    # The handover's own columns, which a recall clears: a recalled handover is not
    # counted (its event stays in the log), a second handover counts for who made it.
    day = w.zone.day(Order.cash_collected_at)
    rows = await session.execute(
        select(day, Order.cash_collected_by, func.count(), func.sum(Order.cash_collected_amount))
        .where(Order.cash_collected_at >= w.start, Order.cash_collected_at < w.end)
        .group_by(day, Order.cash_collected_by)
    )
    for d, actor_id, count, total in rows:
        cell = taken[(str(d), str(actor_id or ""))]
        cell[0] += int(count)
        cell[1] += int(total or 0)


async def dues(session: AsyncSession, w: Window, due: Due) -> None:
    """Per day: the cash orders made ready and not cancelled (count, total)."""
    ready = w.zone.day(Order.ready_at)
    rows = await session.execute(
        select(ready, func.count(), func.sum(Order.total))
        .where(
            Order.payment_method == PaymentMethod.cash,
            Order.status != OrderStatus.cancelled,
            Order.ready_at >= w.start,
            Order.ready_at < w.end,
        )
        .group_by(ready)
    )
    for d, count, total in rows:
        due[str(d)][0] += int(count)
        due[str(d)][1] += int(total or 0)


async def cash_days(session: AsyncSession, taken: Taken, due: Due) -> list[CashDay]:
    """The days with cash due or collected, each with its staff (names as they are now)."""
    ids = {uuid.UUID(k) for _, k in taken if k}
    names: dict[str, str] = {}
    if ids:
        users = await session.execute(select(User.id, User.name).where(User.id.in_(ids)))
        names = {str(i): n for i, n in users if n}
    staff: dict[str, list[StaffCash]] = defaultdict(list)
    for (day, k), (count, total) in taken.items():
        if count:
            staff[day].append(
                StaffCash(
                    staff_id=uuid.UUID(k) if k else None,
                    name=names.get(k, NOBODY),
                    handed_over=count,
                    collected=total,
                )
            )
    dues = {day: total for day, (count, total) in due.items() if count > 0}
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
