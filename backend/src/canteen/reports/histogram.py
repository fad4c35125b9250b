"""Confirmed -> ready times counted per BUCKET seconds: the 90th percentile of any range of
closed days, from the daily rollup's cells merged (docs/reports.md, "Percentile").

Within a bucket the times are taken as evenly spread, then ranks are interpolated as
PostgreSQL's percentile_cont does: the exact value and the estimate fall in the same
bucket, so the estimate is within BUCKET seconds of the exact percentile.
"""

from __future__ import annotations

import json
from collections import defaultdict

from sqlalchemy import Integer, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from canteen.orders.models import Order
from canteen.reports.queries import Keyer, Window

BUCKET = 30.0
Histogram = dict[int, int]


def _bucket(w: Window) -> ColumnElement[int]:
    seconds = w.zone.seconds_between(Order.confirmed_at, Order.ready_at)
    if w.zone.postgres:
        return cast(func.floor(seconds / BUCKET), Integer)
    # julianday arithmetic gives 599.99999997 for 600 s: rounded before it is truncated.
    return cast(func.round(seconds, 3) / BUCKET, Integer)


async def histograms(session: AsyncSession, w: Window, key: Keyer) -> dict[str, Histogram]:
    """Per group key, the orders made ready in the window per bucket of prep time."""
    ready = key(Order.ready_at)
    bucket = _bucket(w)
    stmt = (
        select(ready, bucket, func.count())
        .where(
            and_(Order.ready_at >= w.start, Order.ready_at < w.end),
            Order.confirmed_at.is_not(None),
        )
        .group_by(ready, bucket)
    )
    out: dict[str, Histogram] = defaultdict(dict)
    for k, b, n in await session.execute(stmt):
        h = out[str(k)]
        h[int(b)] = h.get(int(b), 0) + int(n)
    return out


def encode(h: Histogram) -> str | None:
    return json.dumps({str(b): h[b] for b in sorted(h)}) if h else None


def decode(text: str | None) -> Histogram:
    return {int(b): int(n) for b, n in json.loads(text).items()} if text else {}


def add(into: Histogram, h: Histogram) -> None:
    for b, n in h.items():
        into[b] = into.get(b, 0) + n


def percentile(h: Histogram, q: float = 0.9) -> float | None:
    """The q-th percentile of the counted times (None when there are none)."""
    total = sum(h.values())
    if not total:
        return None
    position = q * (total - 1)
    low = int(position)
    high = min(low + 1, total - 1)
    a, b = _at(h, low), _at(h, high)
    return a + (b - a) * (position - low)


def _at(h: Histogram, rank: int) -> float:
    """The time of the rank-th (0-based) order, spread evenly within its bucket."""
    before = 0
    for b in sorted(h):
        n = h[b]
        if rank < before + n:
            return (b + (rank - before + 0.5) / n) * BUCKET
        before += n
    raise ValueError(rank)
