"""The dish, category and cash drawer reports: closed days from the daily lines
(lines.py), the days still open live, and the cancellations made on open days of orders
of closed days subtracted (docs/reports.md, "Daily rollup").
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.menu.models import Category, MenuItem
from canteen.orders.models import OrderItem
from canteen.reports import ledger, lines, queries, rollup
from canteen.reports.models import ReportDayLine
from canteen.reports.queries import Window
from canteen.reports.schemas import CashDay, DishGroup
from canteen.reports.zone import day_start

REMOVED = "(dish removed from the menu)"
# key -> label, orders, quantity, sales, cancelled quantity
Dishes = dict[str, list[Any]]


class Split(NamedTuple):
    opens: date  # the first day not closed
    stop: date  # the day after the range's last closed day
    closed: Window | None  # the range's closed days (their lines written)
    open: Window | None  # the range's days not yet closed


async def _split(c: Container, session: AsyncSession, w: Window, start: date, end: date) -> Split:
    opens = await rollup.first_open_day(c, session)
    tz = w.zone.tz
    closed_end = min(end + timedelta(days=1), max(start, opens))
    closed = open_ = None
    if closed_end > start:
        # Every closed day from `start` on: a later day's cancellations are in its lines.
        await rollup.fill(c, session, start, opens)
        closed = Window(w.start, day_start(closed_end, tz), w.today_start, w.zone)
    if opens <= end:
        open_ = Window(day_start(max(start, opens), tz), w.end, w.today_start, w.zone)
    return Split(opens, closed_end, closed, open_)


async def dishes(
    c: Container, session: AsyncSession, w: Window, start: date, end: date, group: DishGroup
) -> Dishes | None:
    """Per dish or category, the report's figures; None when a dish's category has changed
    since its lines were written (the caller reads the range live)."""
    opens, stop, closed, open_ = await _split(c, session, w, start, end)
    out: Dishes = {}
    if closed is not None:
        rows = await lines.read(session, start, stop, [lines.DISH, group.value])
        if group == DishGroup.category and not await _same_categories(session, rows):
            return None
        for r in rows:
            if r.grp == group.value:
                _add(out, r.key, r.label, r.orders, r.quantity - r.cancelled_quantity)
                out[r.key][3] += r.amount - r.cancelled_amount
                out[r.key][4] += r.cancelled_quantity
        since = day_start(opens, w.zone.tz)
        for k, (quantity, amount) in (
            await lines.later_cancels(session, closed, since, group.value)
        ).items():
            _add(out, k, "", 0, -quantity)
            out[k][3] -= amount
            out[k][4] += quantity
    if open_ is not None:
        for k, label, orders, quantity, sales, cancelled in await live_dishes(
            session, open_, group
        ):
            _add(out, k, label, orders, quantity)
            out[k][3] += sales
            out[k][4] += cancelled
    return out


def _add(out: Dishes, key: str, label: str, orders: int, quantity: int) -> None:
    cell = out.setdefault(key, ["", 0, 0, 0, 0])
    cell[0] = max(cell[0], label)
    cell[1] += orders
    cell[2] += quantity


async def _same_categories(session: AsyncSession, rows: list[ReportDayLine]) -> bool:
    """Whether every dish of the lines is in the category it was in when they were written."""
    now = await session.execute(
        select(MenuItem.id, func.coalesce(Category.name, "")).outerjoin(
            Category, Category.id == MenuItem.category_id
        )
    )
    today = {str(i): str(name) for i, name in now}
    return all(today.get(r.key, "") == r.category for r in rows if r.grp == lines.DISH)


async def live_dishes(session: AsyncSession, w: Window, group: DishGroup) -> list[tuple[Any, ...]]:
    """(key, label, orders, quantity, sales, cancelled quantity) per dish or category, live."""
    if group == DishGroup.dish:
        stmt = queries.dish_statement(w, OrderItem.menu_item_id, OrderItem.name)
    else:
        stmt = queries.dish_statement(
            w,
            Category.name,
            Category.name,
            (MenuItem, MenuItem.id == OrderItem.menu_item_id),
            (Category, Category.id == MenuItem.category_id),
        )
    return [
        (
            str(k) if k is not None else "",
            str(label) if k is not None else REMOVED,
            int(orders),
            int(quantity or 0),
            int(sales or 0),
            int(cancelled or 0),
        )
        for k, label, orders, quantity, sales, cancelled in await session.execute(stmt)
    ]


async def cash_drawer(
    c: Container, session: AsyncSession, w: Window, start: date, end: date
) -> list[CashDay]:
    """Due from the lines of closed days; who collected what is read live, whatever the
    day (a recall clears a handover's columns and a second one rewrites them, so the
    orders' own columns are the answer; one indexed range, ledger.cash_parts)."""
    opens, stop, closed, open_ = await _split(c, session, w, start, end)
    taken: ledger.Taken = defaultdict(lambda: [0, 0])
    due: ledger.Due = defaultdict(lambda: [0, 0])
    if closed is not None:
        for r in await lines.read(session, start, stop, [lines.DUE]):
            due[r.origin.isoformat()][0] += r.orders - r.cancelled_quantity
            due[r.origin.isoformat()][1] += r.amount - r.cancelled_amount
        since = day_start(opens, w.zone.tz)
        later = await lines.later_cash_cancels(session, closed, since)
        for day, (count, amount) in later.items():
            due[day][0] -= count
            due[day][1] -= amount
    await ledger.collected(session, w, taken)
    if open_ is not None:
        await ledger.dues(session, open_, due)
    return await ledger.cash_days(session, taken, due)
