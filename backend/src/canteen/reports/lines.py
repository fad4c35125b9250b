"""The daily lines behind the dish, category and cash drawer's due (ReportDayLine).

A report of origins [A, B] (orders placed, cash orders made ready, cash handed over) reads
the rows of closed days and adds, live: the origins still open, and the cancellations made
on open days of orders whose origin is closed (few rows: the cancelled_at index). The
answers are the live queries' (queries.dish_statement, ledger), to the digit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.menu.models import Category, MenuItem
from canteen.orders.models import Order, OrderItem, OrderStatus, PaymentMethod
from canteen.reports.models import ReportDayLine
from canteen.reports.queries import Window

DISH, CATEGORY, DUE = "dish", "category", "cash_due"
Cells = dict[tuple[date, date, str, str], dict[str, Any]]


def _within(moment: Any, w: Window) -> Any:
    return and_(moment >= w.start, moment < w.end)


def _cell(cells: Cells, origin: Any, day: Any, grp: str, key: Any) -> dict[str, Any]:
    k = (date.fromisoformat(str(origin)), date.fromisoformat(str(day)), grp, str(key or ""))
    if k not in cells:
        cells[k] = {"label": "", "category": "", "orders": 0, "quantity": 0, "amount": 0}
        cells[k].update(cancelled_quantity=0, cancelled_amount=0)
    return cells[k]


def _item_keys() -> tuple[Any, Any]:
    """Per line: its dish's id, and its dish's category name today ('' if none)."""
    return OrderItem.menu_item_id, func.coalesce(Category.name, "")


def _lines() -> Any:
    """Order lines with their order, dish and category (a removed dish has none)."""
    return (
        select()
        .select_from(OrderItem)
        .join(Order, Order.id == OrderItem.order_id)
        .outerjoin(MenuItem, MenuItem.id == OrderItem.menu_item_id)
        .outerjoin(Category, Category.id == MenuItem.category_id)
    )


async def _placed(session: AsyncSession, w: Window, cells: Cells) -> None:
    dish, category = _item_keys()
    placed = w.zone.day(Order.created_at)
    for grp, key in ((DISH, dish), (CATEGORY, category)):
        stmt = _lines().add_columns(
            placed,
            key,
            func.max(OrderItem.name),
            func.max(category),
            func.count(func.distinct(Order.id)),
            func.sum(OrderItem.quantity),
            func.sum(OrderItem.line_total),
        )
        stmt = stmt.where(_within(Order.created_at, w)).group_by(placed, key)
        for day, k, name, cat, orders, quantity, amount in await session.execute(stmt):
            cell = _cell(cells, day, day, grp, k)
            cell.update(label=str(name if grp == DISH else k), category=str(cat or ""))
            cell.update(orders=int(orders), quantity=int(quantity or 0), amount=int(amount or 0))


async def _cancelled(session: AsyncSession, w: Window, cells: Cells) -> None:
    """Per cancel day and origin day, what was cancelled of the origin's lines."""
    dish, category = _item_keys()
    day, placed = w.zone.day(Order.cancelled_at), w.zone.day(Order.created_at)
    gone = (_within(Order.cancelled_at, w), Order.status == OrderStatus.cancelled)
    for grp, key in ((DISH, dish), (CATEGORY, category)):
        stmt = _lines().add_columns(
            day, placed, key, func.sum(OrderItem.quantity), func.sum(OrderItem.line_total)
        )
        for d, p, k, quantity, amount in await session.execute(
            stmt.where(*gone).group_by(day, placed, key)
        ):
            cell = _cell(cells, p, d, grp, k)
            cell.update(cancelled_quantity=int(quantity or 0), cancelled_amount=int(amount or 0))
    ready = w.zone.day(Order.ready_at)
    cash_gone = select(day, ready, func.count(), func.sum(Order.total)).where(
        *gone, Order.payment_method == PaymentMethod.cash, Order.ready_at.is_not(None)
    )
    for d, r, n, amount in await session.execute(cash_gone.group_by(day, ready)):
        _cell(cells, r, d, DUE, "").update(cancelled_quantity=int(n), cancelled_amount=int(amount))


async def _cash(session: AsyncSession, w: Window, cells: Cells) -> None:
    ready = w.zone.day(Order.ready_at)
    due = select(ready, func.count(), func.sum(Order.total)).where(
        _within(Order.ready_at, w), Order.payment_method == PaymentMethod.cash
    )
    for r, n, amount in await session.execute(due.group_by(ready)):
        _cell(cells, r, r, DUE, "").update(orders=int(n), amount=int(amount or 0))


async def rows(session: AsyncSession, w: Window, days: set[date]) -> list[dict[str, Any]]:
    """The lines of the closed `days` (w spans them), in one global key order."""
    cells: Cells = {}
    await _placed(session, w, cells)
    await _cancelled(session, w, cells)
    await _cash(session, w, cells)
    out = []
    for (origin, day, grp, key), cell in sorted(cells.items()):
        if day in days:
            out.append({"origin": origin, "day": day, "grp": grp, "key": key, **cell})
    return out


async def read(
    session: AsyncSession, first: date, stop: date, groups: Iterable[str]
) -> list[ReportDayLine]:
    """The rows of origins [first, stop), whatever day their cancellations were made."""
    stmt = select(ReportDayLine).where(
        ReportDayLine.origin >= first, ReportDayLine.origin < stop, ReportDayLine.grp.in_(groups)
    )
    return list(await session.scalars(stmt))


async def later_cancels(session: AsyncSession, w: Window, since: Any, grp: str) -> dict[str, Any]:
    """What was cancelled at or after `since` of the lines of orders placed in `w`."""
    dish, category = _item_keys()
    key = dish if grp == DISH else category
    stmt = _lines().add_columns(key, func.sum(OrderItem.quantity), func.sum(OrderItem.line_total))
    stmt = stmt.where(
        Order.cancelled_at >= since,
        Order.status == OrderStatus.cancelled,
        _within(Order.created_at, w),
    ).group_by(key)
    return {str(k): (int(q or 0), int(a or 0)) for k, q, a in await session.execute(stmt)}


async def later_cash_cancels(session: AsyncSession, w: Window, since: Any) -> dict[str, Any]:
    """Per ready day in `w`: the cash orders cancelled at or after `since` (count, total)."""
    ready = w.zone.day(Order.ready_at)
    stmt = select(ready, func.count(), func.sum(Order.total)).where(
        Order.cancelled_at >= since,
        Order.status == OrderStatus.cancelled,
        Order.payment_method == PaymentMethod.cash,
        _within(Order.ready_at, w),
    )
    out: dict[str, Any] = defaultdict(lambda: (0, 0))
    for r, n, amount in await session.execute(stmt.group_by(ready)):
        out[str(r)] = (int(n), int(amount or 0))
    return out
