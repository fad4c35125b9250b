"""Reports: the figures of a date range by group, the dashboard, the cash drawer.

Reads orders, payments and refunds, and keeps closed days' sales figures in the daily
rollup (rollup.py); dates are the canteen's local dates (settings.timezone) and each range
is [first day 00:00, day after the last 00:00).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.core.errors import ValidationFailed, field_error
from canteen.reports import closed, histogram, ledger, queries, rollup
from canteen.reports.queries import Partial, Window
from canteen.reports.schemas import (
    Cancellation,
    CashDay,
    Dashboard,
    DishGroup,
    DishReport,
    DishRow,
    FeedbackRow,
    Figures,
    QuarterHour,
    RefundRow,
    SalesGroup,
    SalesReport,
    SalesRow,
)
from canteen.reports.zone import LocalTime, day_start, local_iso

MAX_DAYS = 366
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
TOP_DISHES = 5
# Over longer ranges the totals' (and non-day groups') 90th percentile comes from the
# days' histograms instead of every prep time of the range (docs/reports.md, "Percentile").
EXACT_P90_DAYS = 31


def zone_of(c: Container) -> ZoneInfo:
    return ZoneInfo(c.settings.timezone)


def check_range(start: date, end: date) -> None:
    for name, day in (("from", start), ("to", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationFailed(
                details=[
                    field_error(
                        name,
                        "out_of_range",
                        f"Choose a day from {FIRST_DAY} to {LAST_DAY}",
                        min=FIRST_DAY.isoformat(),
                        max=LAST_DAY.isoformat(),
                    )
                ]
            )
    if end < start:
        raise ValidationFailed(
            details=[field_error("to", "before_from", "The last day comes before the first")]
        )
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            details=[
                field_error("to", "too_long", f"At most {MAX_DAYS} days at once", max=MAX_DAYS)
            ]
        )


def window(c: Container, start: date, end: date) -> Window:
    """The UTC instants of local days `start`..`end` (both included)."""
    check_range(start, end)
    tz = zone_of(c)
    first = day_start(start, tz)
    today = day_start(c.clock.now().astimezone(tz).date(), tz)
    zone = LocalTime(tz, c.engine.dialect.name, first)
    return Window(first, day_start(end + timedelta(days=1), tz), today, zone)


def figures(p: Partial) -> Figures:
    upi, cash = int(p.get("revenue_upi") or 0), int(p.get("revenue_cash") or 0)
    refunded = int(p.get("refunded") or 0)
    ratings = int(p.get("ratings") or 0)
    ready = int(p.get("ready") or 0)
    avg = float(p.get("prep_sum") or 0.0) / ready if ready else None
    p90 = p.get("p90_prep")
    return Figures(
        orders=int(p.get("orders") or 0),
        revenue_upi=upi,
        revenue_cash=cash,
        refunded=refunded,
        net_revenue=upi + cash - refunded,
        ready=ready,
        avg_prep_seconds=None if avg is None else round(float(avg), 1),
        p90_prep_seconds=None if p90 is None else round(float(p90), 1),
        late=int(p.get("late") or 0),
        cancelled=int(p.get("cancelled") or 0),
        uncollected=int(p.get("uncollected") or 0),
        ratings=ratings,
        avg_rating=round(int(p["rating_sum"]) / ratings, 2) if ratings else None,
    )


def _label(group: SalesGroup, key: str) -> str:
    if group == SalesGroup.hour:
        return f"{int(key):02d}:00-{int(key):02d}:59"
    if group == SalesGroup.time_slot and not key:
        return "(no slot)"
    return key.replace("_", " ")


def _sort_key(group: SalesGroup, key: str) -> Any:
    return int(key) if group == SalesGroup.hour else key


async def sales_report(
    c: Container, session: AsyncSession, start: date, end: date, group: SalesGroup
) -> SalesReport:
    w = window(c, start, end)
    parts = await _partials(c, session, w, start, end, group)
    # Every row falls in exactly one group: the totals are the groups' sums, except the
    # percentile, which is read again over the range (exact up to EXACT_P90_DAYS days).
    totals = queries.add_up(parts.values())
    if (end - start).days + 1 <= EXACT_P90_DAYS:
        if group != SalesGroup.day:  # a row spans days: its percentile is read again
            p90s = await queries.p90_prep(session, w, queries.keyer(group, w.zone))
            for k, p in parts.items():
                p["p90_prep"] = p90s.get(k)
        totals["p90_prep"] = (await queries.p90_prep(session, w)).get("all")
    else:  # from the days' merged histograms, within histogram.BUCKET seconds
        hists = await _histograms(c, session, w, start, end, group)
        if group != SalesGroup.day:
            for k, p in parts.items():
                p["p90_prep"] = histogram.percentile(hists.get(k, {}))
        whole: histogram.Histogram = {}
        for h in hists.values():
            histogram.add(whole, h)
        totals["p90_prep"] = histogram.percentile(whole)
    rows = [
        SalesRow(key=str(k), label=_label(group, k), figures=figures(parts[k]))
        for k in sorted(parts, key=lambda k: _sort_key(group, k))
    ]
    return SalesReport(start=start, end=end, group=group, totals=figures(totals), rows=rows)


async def _partials(
    c: Container, session: AsyncSession, w: Window, start: date, end: date, group: SalesGroup
) -> dict[str, Partial]:
    """Closed days from the daily rollup (filled on first read) plus their live figures
    (refunds, uncollected); the days not yet closed, today among them, computed live."""
    key = queries.keyer(group, w.zone)
    opens = min(max(start, await rollup.first_open_day(c, session)), end + timedelta(days=1))
    parts: dict[str, Partial] = defaultdict(dict)
    if opens > start:
        await rollup.fill(c, session, start, opens)
        closed = Window(w.start, day_start(opens, zone_of(c)), w.today_start, w.zone)
        live: dict[str, Partial] = defaultdict(dict)
        await queries.live_partials(session, closed, key, live)
        for source in (await rollup.read(session, start, opens, group), live):
            for k, p in source.items():
                queries.merge(parts[k], p)
    if opens <= end:
        rest = Window(day_start(opens, zone_of(c)), w.end, w.today_start, w.zone)
        for k, p in (await queries.sales_partials(session, rest, key)).items():
            queries.merge(parts[k], p)
    return parts


async def _histograms(
    c: Container, session: AsyncSession, w: Window, start: date, end: date, group: SalesGroup
) -> dict[str, histogram.Histogram]:
    """Per row key (one `all` for `day`: only the totals need it), the prep-time buckets:
    closed days' from the rollup (filled by _partials), the open days' counted live."""
    opens = min(max(start, await rollup.first_open_day(c, session)), end + timedelta(days=1))
    out = await rollup.histograms(session, start, opens, group) if opens > start else {}
    if opens <= end:
        rest = Window(day_start(opens, zone_of(c)), w.end, w.today_start, w.zone)
        key = queries.keyer(None if group == SalesGroup.day else group, w.zone)
        for k, h in (await histogram.histograms(session, rest, key)).items():
            histogram.add(out.setdefault(k, {}), h)
    return out


async def live_dishes(session: AsyncSession, w: Window, group: DishGroup) -> list[DishRow]:
    """The range read live (today's top dishes; a category report after a dish moved)."""
    rows = await closed.live_dishes(session, w, group)
    return _dish_rows({k: [label, *rest] for k, label, *rest in rows}, group)


def _dish_rows(cells: closed.Dishes, group: DishGroup) -> list[DishRow]:
    rows = [
        DishRow(
            key=k,
            label=closed.REMOVED if group == DishGroup.category and not k else label,
            orders=orders,
            quantity=quantity,
            sales=sales,
            cancelled_quantity=cancelled,
        )
        for k, (label, orders, quantity, sales, cancelled) in cells.items()
    ]
    return sorted(rows, key=lambda r: (-r.quantity, -r.sales, r.label))


async def dish_report(
    c: Container, session: AsyncSession, start: date, end: date, group: DishGroup
) -> DishReport:
    w = window(c, start, end)
    cells = await closed.dishes(c, session, w, start, end, group)
    rows = await live_dishes(session, w, group) if cells is None else _dish_rows(cells, group)
    return DishReport(start=start, end=end, group=group, rows=rows)


async def dashboard(c: Container, session: AsyncSession) -> Dashboard:
    """Today until now against the same weekday last week until the same time."""
    tz = zone_of(c)
    now = c.clock.now()
    today = now.astimezone(tz).date()
    week_ago = today - timedelta(days=7)
    start = day_start(today, tz)
    zone = LocalTime(tz, c.engine.dialect.name, start)
    w = Window(start, now, start, zone)
    then_start = day_start(week_ago, tz)
    # The same time of day a week ago (wall-clock, so a zone's offset change does not shift it).
    then_now = datetime.combine(week_ago, now.astimezone(tz).timetz()).astimezone(tz)
    then = Window(then_start, max(then_start, then_now), start, zone)
    everything = queries.keyer(None, zone)
    current = (await queries.sales_partials(session, w, everything)).get("all", {})
    previous = (await queries.sales_partials(session, then, everything)).get("all", {})
    return Dashboard(
        today=today,
        now=local_iso(now, tz) or "",
        last_week_day=week_ago,
        time_zone=tz.key,
        figures=figures(current),
        last_week=figures(previous),
        cancellations=[
            Cancellation(cancelled_by=by, reason=reason, count=n)
            for by, reason, n in await queries.cancellations(session, w)
        ],
        per_quarter_hour=await _quarter_hours(session, w, then, tz),
        top_dishes=(await live_dishes(session, w, DishGroup.dish))[:TOP_DISHES],
    )


async def _quarter_hours(
    session: AsyncSession, w: Window, then: Window, tz: ZoneInfo
) -> list[QuarterHour]:
    """Orders placed per quarter hour of the local day, today and a week ago."""

    def slot(at: datetime) -> int:
        local = at.astimezone(tz)
        return (local.hour * 60 + local.minute) // 15

    counts = [0] * 96
    before = [0] * 96
    for at in await queries.placed_times(session, w):
        counts[slot(at)] += 1
    for at in await queries.placed_times(session, then):
        before[slot(at)] += 1
    used = [i for i in range(96) if counts[i] or before[i]]
    if not used:
        return []
    # From the first busy quarter to the current one: the chart shows the day so far.
    last = max(max(used), slot(w.end))
    return [
        QuarterHour(start=f"{i // 4:02d}:{i % 4 * 15:02d}", orders=counts[i], last_week=before[i])
        for i in range(min(used), last + 1)
    ]


async def cash_drawer(c: Container, session: AsyncSession, start: date, end: date) -> list[CashDay]:
    return await closed.cash_drawer(c, session, window(c, start, end), start, end)


async def refunds(
    c: Container, session: AsyncSession, start: date, end: date, offset: int, limit: int
) -> tuple[list[RefundRow], int]:
    stmt = ledger.refunds_statement(window(c, start, end))
    rows, total = await ledger.page(session, stmt, offset, limit)
    return [ledger.refund_row(r, zone_of(c)) for r in rows], total


async def feedback(
    c: Container,
    session: AsyncSession,
    start: date,
    end: date,
    rating: int | None,
    offset: int,
    limit: int,
) -> tuple[list[FeedbackRow], int]:
    stmt = ledger.feedback_statement(window(c, start, end), rating)
    rows, total = await ledger.page(session, stmt, offset, limit)
    return [ledger.feedback_row(r, zone_of(c)) for r in rows], total
