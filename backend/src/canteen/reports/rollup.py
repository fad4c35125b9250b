"""The daily rollup: each closed local day's settled figures, per grouping, computed once.

Every figure is counted on the local day of its own moment, so a day that has ended is
done, with these exceptions, each handled:

- a recall undoes a ready, a handover or a cancel within RECALL_WINDOW of it, so a day is
  closed only SETTLE after its midnight;
- an unpaid UPI order can still switch to cash (its payment method, a group key, changes)
  for as long as it waits: every day from the oldest order still `received` stays open;
- a refund can fail days later, and its row takes the database's clock; an order made
  ready stays uncollected until someone hands it over: `refunded` and `uncollected` are
  not kept, they are read live for every day (few rows: refunds, orders still waiting).

Closed days are filled on first read (in the reader's transaction) and by the job
`reports.rollup_days`; the days not yet closed, today among them, are computed live.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Integer, String, cast, func, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from canteen.core.container import Container
from canteen.orders.models import Order, OrderStatus
from canteen.orders.recall import RECALL_WINDOW
from canteen.reports import histogram, lines, queries
from canteen.reports.models import ReportDay, ReportDayLine, ReportDayRollup
from canteen.reports.queries import Keyer, Partial, Window
from canteen.reports.schemas import SalesGroup
from canteen.reports.zone import LocalTime, day_start

# A minute of margin over the recall window, for a request that began just before it shut.
SETTLE = RECALL_WINDOW + timedelta(minutes=1)
ALL = "all"
GROUPINGS: tuple[SalesGroup | None, ...] = (
    None,
    SalesGroup.time_slot,
    SalesGroup.hour,
    SalesGroup.payment_method,
    SalesGroup.order_type,
)
KEPT = ("orders", "revenue_upi", "revenue_cash", "ready", "late", "cancelled", "ratings")


def grp_name(group: SalesGroup | None) -> str:
    return ALL if group in (None, SalesGroup.day) else str(group)


async def first_open_day(c: Container, session: AsyncSession) -> date:
    """The first local day that may still change: the rollup holds only days before it."""
    zone = ZoneInfo(c.settings.timezone)
    settled = (c.clock.now() - SETTLE).astimezone(zone).date()
    waiting = await session.scalar(
        select(func.min(Order.created_at)).where(Order.status == OrderStatus.received)
    )
    if waiting is not None:
        settled = min(settled, waiting.astimezone(zone).date())
    return settled


def _composite(group: SalesGroup | None, zone: LocalTime) -> Keyer:
    """`day|key` for each row, so one grouped read fills many days at once."""
    inner = queries.keyer(group, zone)

    def key(moment: Any) -> Any:
        if group is None:
            return zone.day(moment) + literal("|")
        return zone.day(moment) + literal("|") + cast(inner(moment), String)

    return key


async def fill(c: Container, session: AsyncSession, first: date, stop: date) -> int:
    """Compute and store the days in [first, stop) that have no rollup yet; returns how
    many days were written. Two readers filling the same day: the second's rows are
    skipped (ON CONFLICT DO NOTHING), and both computed the same sums."""
    have = set(
        await session.scalars(
            select(ReportDay.day).where(ReportDay.day >= first, ReportDay.day < stop)
        )
    )
    missing = [
        first + timedelta(days=i)
        for i in range((stop - first).days)
        if first + timedelta(days=i) not in have
    ]
    if not missing:
        return 0
    tz = ZoneInfo(c.settings.timezone)
    lo, hi = missing[0], missing[-1] + timedelta(days=1)
    start = day_start(lo, tz)
    zone = LocalTime(tz, c.engine.dialect.name, start)
    w = Window(start, day_start(hi, tz), start, zone)
    wanted = set(missing)
    rows: list[dict[str, Any]] = []
    for group in GROUPINGS:
        composite = _composite(group, zone)
        parts = await queries.settled_partials(session, w, composite)
        for cell, h in (await histogram.histograms(session, w, composite)).items():
            parts[cell]["histogram"] = h
        for cell, p in parts.items():
            day_text, _, key = cell.partition("|")
            day = date.fromisoformat(day_text)
            if day in wanted:
                rows.append(_row(day, grp_name(group), key, p))
    now = c.clock.now().astimezone(UTC)
    # One global order of keys: two readers filling overlapping ranges wait, never deadlock.
    rows.sort(key=lambda r: (r["day"], r["grp"], r["key"]))
    await _insert(session, ReportDayRollup, rows)
    await _insert(session, ReportDayLine, await lines.rows(session, w, wanted))
    await _insert(session, ReportDay, [{"day": d, "computed_at": now} for d in missing])
    return len(missing)


def _row(day: date, grp: str, key: str, p: Partial) -> dict[str, Any]:
    row: dict[str, Any] = {"day": day, "grp": grp, "key": key}
    for name in KEPT:
        row[name] = int(p.get(name) or 0)
    row["rating_sum"] = int(p.get("rating_sum") or 0)
    row["prep_seconds"] = float(p.get("prep_sum") or 0.0)
    p90 = p.get("p90_prep")
    row["p90_prep"] = None if p90 is None else float(p90)
    row["prep_histogram"] = histogram.encode(p.get("histogram") or {})
    return row


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    for i in range(0, len(rows), 500):
        stmt = dialect.insert(model).values(rows[i : i + 500]).on_conflict_do_nothing()
        await session.execute(stmt)


async def read(
    session: AsyncSession, first: date, stop: date, group: SalesGroup
) -> dict[str, Partial]:
    """The kept partials of days [first, stop) per group key (per day for `day`)."""
    out: dict[str, Partial] = defaultdict(dict)
    rows = await session.scalars(
        select(ReportDayRollup)
        .options(defer(ReportDayRollup.prep_histogram))
        .where(
            ReportDayRollup.day >= first,
            ReportDayRollup.day < stop,
            ReportDayRollup.grp == grp_name(group),
        )
    )
    for r in rows:
        key = r.day.isoformat() if group == SalesGroup.day else r.key
        part: Partial = {name: getattr(r, name) for name in KEPT}
        part["rating_sum"] = r.rating_sum
        part["prep_sum"] = r.prep_seconds
        if group == SalesGroup.day:
            part["p90_prep"] = r.p90_prep
        queries.merge(out[key], part)
    return out


async def histograms(
    session: AsyncSession, first: date, stop: date, group: SalesGroup
) -> dict[str, histogram.Histogram]:
    """The merged prep-time histograms of days [first, stop) per group key (all days in
    one, `all`, for `day`): the database adds the buckets up (json_each), so a year by
    hour returns a few hundred rows, not every cell's histogram."""
    col = ReportDayRollup.prep_histogram
    if session.bind.dialect.name == "postgresql":
        each = func.json_each_text(cast(col, JSON)).table_valued("key", "value")
    else:
        each = func.json_each(col).table_valued("key", "value")
    key = literal(ALL) if group == SalesGroup.day else ReportDayRollup.key
    stmt = (
        select(key, each.c.key, func.sum(cast(each.c.value, Integer)))
        .select_from(ReportDayRollup)
        .join(each, true())
        .where(
            ReportDayRollup.day >= first,
            ReportDayRollup.day < stop,
            ReportDayRollup.grp == grp_name(group),
            col.is_not(None),
        )
        .group_by(key, each.c.key)
    )
    out: dict[str, histogram.Histogram] = defaultdict(dict)
    for k, bucket, n in await session.execute(stmt):
        out[str(k)][int(bucket)] = int(n)
    return out
