"""The report queries: each figure is counted on its own moment (placed, captured, handed
over, refunded, ready, cancelled, rated), so a change after midnight lands on its own day.

Every query is `SELECT key, aggregates ... WHERE moment in [start, end) GROUP BY key`; the
moments are indexed (migration 0010). Money is summed in paise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from canteen.orders.models import Order, OrderItem, OrderStatus, PaymentMethod
from canteen.payments.models import Payment, Refund
from canteen.reports.schemas import SalesGroup
from canteen.reports.zone import LocalTime

Keyer = Callable[[Any], ColumnElement[Any]]
Partial = dict[str, Any]


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    today_start: datetime  # orders still "ready" from before this were never collected
    zone: LocalTime


def keyer(group: SalesGroup | None, zone: LocalTime) -> Keyer:
    """The group key of a row, from the moment that row is counted on."""
    if group is None:
        return lambda _moment: literal("all")
    if group == SalesGroup.day:
        return zone.day
    if group == SalesGroup.hour:
        return zone.hour
    column: Any = {
        SalesGroup.time_slot: func.coalesce(Order.time_slot, ""),
        SalesGroup.payment_method: Order.payment_method,
        SalesGroup.order_type: Order.order_type,
    }[group]
    return lambda _moment: column


def _between(moment: Any, w: Window) -> ColumnElement[bool]:
    return and_(moment >= w.start, moment < w.end)


async def _collect(
    session: AsyncSession, stmt: Select[Any], names: tuple[str, ...], into: dict[str, Partial]
) -> None:
    for row in await session.execute(stmt):
        bucket = into[str(row[0])]
        for name, value in zip(names, row[1:], strict=True):
            bucket[name] = value


async def sales_partials(session: AsyncSession, w: Window, key: Keyer) -> dict[str, Partial]:
    """Per group key, the raw sums the figures are made from."""
    out = await settled_partials(session, w, key)
    await live_partials(session, w, key, out)
    return out


async def settled_partials(session: AsyncSession, w: Window, key: Keyer) -> dict[str, Partial]:
    """The figures a day's end settles (each counted on a moment that is set once and
    only undone within minutes): what the daily rollup keeps (canteen.reports.rollup)."""
    out: dict[str, Partial] = defaultdict(dict)
    placed = key(Order.created_at)
    await _collect(
        session,
        select(placed, func.count()).where(_between(Order.created_at, w)).group_by(placed),
        ("orders",),
        out,
    )
    captured = key(Payment.captured_at)
    await _collect(
        session,
        select(captured, func.sum(Payment.amount))
        .join(Order, Order.id == Payment.order_id)
        .where(_between(Payment.captured_at, w))
        .group_by(captured),
        ("revenue_upi",),
        out,
    )
    handed = key(Order.completed_at)
    await _collect(
        session,
        select(handed, func.sum(Order.total))
        .where(
            _between(Order.completed_at, w),
            Order.payment_method == PaymentMethod.cash,
            Order.status == OrderStatus.completed,
        )
        .group_by(handed),
        ("revenue_cash",),
        out,
    )
    await _prep(session, w, key, out)
    await _counts(session, w, key, out)
    return out


async def live_partials(
    session: AsyncSession, w: Window, key: Keyer, out: dict[str, Partial]
) -> None:
    """The figures that can still change after their day: a refund can fail days later
    (and its row takes the database's clock), an order ready on its day is uncollected
    until someone hands it over. Both read few rows (refunds; orders still waiting)."""
    refunded = key(Refund.created_at)
    stmt = select(refunded, func.sum(Refund.amount))
    if Order.__table__ in stmt.get_final_froms():  # every refund has its order: join to group
        stmt = stmt.join(Order, Order.id == Refund.order_id)
    await _collect(
        session,
        stmt.where(_between(Refund.created_at, w), Refund.status != "failed").group_by(refunded),
        ("refunded",),
        out,
    )
    # Moved to not_collected by the no-show sweep, or still ready after its day has ended
    # (the partial index ix_orders_waiting_ready_at holds exactly these orders, with their
    # status: a day or hour grouping is read from the index alone).
    waiting = Order.status.in_([OrderStatus.ready, OrderStatus.not_collected])
    never = waiting & (
        (Order.status == OrderStatus.not_collected) | (Order.ready_at < w.today_start)
    )
    ready = key(Order.ready_at)
    await _collect(
        session,
        select(ready, func.count()).where(_between(Order.ready_at, w), never).group_by(ready),
        ("uncollected",),
        out,
    )


async def _prep(session: AsyncSession, w: Window, key: Keyer, out: dict[str, Partial]) -> None:
    ready = key(Order.ready_at)
    seconds = w.zone.seconds_between(Order.confirmed_at, Order.ready_at)
    late = func.sum(case((Order.ready_at > Order.estimated_ready_at, 1), else_=0))
    where = (_between(Order.ready_at, w), Order.confirmed_at.is_not(None))
    if w.zone.postgres:
        p90 = func.percentile_cont(0.9).within_group(seconds)
        stmt = select(ready, func.count(), func.sum(seconds), p90, late)
        await _collect(
            session,
            stmt.where(*where).group_by(ready),
            ("ready", "prep_sum", "p90_prep", "late"),
            out,
        )
        return
    # SQLite has no percentile aggregate: the embedded server reads the durations.
    stmt = select(ready, seconds, case((Order.ready_at > Order.estimated_ready_at, 1), else_=0))
    durations: dict[str, list[float]] = defaultdict(list)
    lates: dict[str, int] = defaultdict(int)
    for k, value, is_late in await session.execute(stmt.where(*where)):
        durations[str(k)].append(float(value))
        lates[str(k)] += int(is_late)
    for k, values in durations.items():
        out[k].update(
            ready=len(values),
            prep_sum=sum(values),
            p90_prep=percentile(values, 0.9),
            late=lates[k],
        )


async def _counts(session: AsyncSession, w: Window, key: Keyer, out: dict[str, Partial]) -> None:
    cancelled = key(Order.cancelled_at)
    await _collect(
        session,
        select(cancelled, func.count()).where(_between(Order.cancelled_at, w)).group_by(cancelled),
        ("cancelled",),
        out,
    )
    rated = key(Order.feedback_at)
    await _collect(
        session,
        select(rated, func.count(), func.sum(Order.feedback_rating))
        .where(_between(Order.feedback_at, w), Order.feedback_rating.is_not(None))
        .group_by(rated),
        ("ratings", "rating_sum"),
        out,
    )


SUMMED = ("orders", "revenue_upi", "revenue_cash", "refunded", "ready", "late", "cancelled")
SUMMED_TOO = ("uncollected", "ratings", "rating_sum")
ADDITIVE = (*SUMMED, *SUMMED_TOO)


def add_up(parts: Iterable[Partial]) -> Partial:
    """The sums of several groups' (or days') partials. The mean prep time is the summed
    prep seconds over the orders ready; the percentile cannot be added up (the caller
    reads it again, or leaves it out)."""
    total: Partial = {name: 0 for name in ADDITIVE}
    prep = 0.0
    for p in parts:
        for name in ADDITIVE:
            total[name] += int(p.get(name) or 0)
        prep += float(p.get("prep_sum") or 0.0)
    total["prep_sum"] = prep
    return total


def merge(into: Partial, part: Partial) -> None:
    """Add `part`'s sums into `into` (one group key's partials from two sources)."""
    for name in ADDITIVE:
        if part.get(name) is not None:
            into[name] = int(into.get(name) or 0) + int(part[name])
    if part.get("prep_sum") is not None:
        into["prep_sum"] = float(into.get("prep_sum") or 0.0) + float(part["prep_sum"])
    if "p90_prep" in part:
        into["p90_prep"] = part["p90_prep"]


async def p90_prep(session: AsyncSession, w: Window, key: Keyer | None = None) -> dict[str, float]:
    """The exact 90th percentile of confirmed -> ready per group key over the window."""
    out: dict[str, Partial] = defaultdict(dict)
    await _prep(session, w, key or keyer(None, w.zone), out)
    return {k: float(p["p90_prep"]) for k, p in out.items() if p.get("p90_prep") is not None}


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def cancellations(session: AsyncSession, w: Window) -> list[tuple[str, str, int]]:
    by = func.coalesce(Order.cancelled_by, "")
    reason = func.coalesce(Order.cancel_reason, "")
    rows = await session.execute(
        select(by, reason, func.count())
        .where(_between(Order.cancelled_at, w))
        .group_by(by, reason)
        .order_by(func.count().desc(), by, reason)
    )
    return [(str(b), str(r), int(n)) for b, r, n in rows]


async def placed_times(session: AsyncSession, w: Window) -> list[datetime]:
    """When each order of a (short) window was placed, for the quarter-hour chart."""
    stmt = select(Order.created_at).where(_between(Order.created_at, w))
    return list(await session.scalars(stmt))


def dish_statement(w: Window, key: Any, label: Any, *joins: Any) -> Select[Any]:
    live = Order.status != OrderStatus.cancelled
    stmt = select(
        key,
        func.max(label),
        func.count(func.distinct(Order.id)),
        func.sum(case((live, OrderItem.quantity), else_=0)),
        func.sum(case((live, OrderItem.line_total), else_=0)),
        func.sum(case((live, 0), else_=OrderItem.quantity)),
    ).join(Order, Order.id == OrderItem.order_id)
    for target, on in joins:
        stmt = stmt.outerjoin(target, on)
    return stmt.where(_between(Order.created_at, w)).group_by(key)
