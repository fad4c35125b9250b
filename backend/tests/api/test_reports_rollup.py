"""The daily rollup behind the sales reports (issue 18): a closed day's settled figures are
kept once, and the answers are the live computation's, to the digit, whatever happens
after midnight (a refund that fails, a late handover, a recall, a switch to cash).

The live reference below is the report computed without the rollup: every figure read
from the orders, payments and refunds of the whole range.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

from orders_helpers import order_body, place, seed_menu
from sqlalchemy import func, select, update
from test_reports import (
    API,
    NEXT,
    WEEK_AGO,
    D,
    World,
    clock,
    ist,
    world,
)

from canteen.core.clock import ManualClock
from canteen.core.container import Container
from canteen.orders.models import Order
from canteen.payments.models import Refund
from canteen.reports import queries, service
from canteen.reports.models import ReportDay, ReportDayRollup
from canteen.reports.schemas import SalesGroup
from canteen.reports.tasks import rollup_days
from conftest import login_customer

__all__ = ["clock", "world"]  # fixtures used here: the frozen clock and the world it runs

GROUPS = [g.value for g in SalesGroup]


async def live(c: Container, start: date, end: date, group: str) -> dict[str, Any]:
    """The report without the rollup: the rows' and totals' figures, read live."""
    g = SalesGroup(group)
    w = service.window(c, start, end)
    async with c.sessionmaker() as s:
        parts = await queries.sales_partials(s, w, queries.keyer(g, w.zone))
        totals = queries.add_up(parts.values())
        totals["p90_prep"] = (await queries.p90_prep(s, w)).get("all")
    return {
        "rows": {k: service.figures(p).model_dump() for k, p in parts.items()},
        "totals": service.figures(totals).model_dump(),
    }


async def answer(w: World, start: date, end: date, group: str) -> dict[str, Any]:
    data = (await w.get("sales", **{"from": start, "to": end, "group": group}))["data"]
    return {"rows": {r["key"]: r["figures"] for r in data["rows"]}, "totals": data["totals"]}


async def same_as_live(w: World, start: date, end: date) -> dict[str, dict[str, Any]]:
    got = {}
    for group in GROUPS:
        got[group] = await answer(w, start, end, group)
        assert got[group] == await live(w.container, start, end, group), group
    return got


async def rolled_days(c: Container) -> set[date]:
    async with c.sessionmaker() as s:
        return set(await s.scalars(select(ReportDay.day)))


async def test_rollup_answers_equal_live_across_closed_days_and_today(world: World) -> None:
    w = world
    await w.at(ist(NEXT, 12, 0))
    first = WEEK_AGO - timedelta(days=1)
    got = await same_as_live(w, first, NEXT)
    # The closed days were rolled up on this first read; today was not.
    days = await rolled_days(w.container)
    assert days == {first + timedelta(days=i) for i in range((NEXT - first).days)}
    async with w.container.sessionmaker() as s:
        assert await s.scalar(select(func.count()).where(ReportDayRollup.day == NEXT)) == 0
        kept = await s.scalar(
            select(ReportDayRollup.orders).where(
                ReportDayRollup.day == D, ReportDayRollup.grp == "all"
            )
        )
    assert kept == 7
    assert got["day"]["rows"][D.isoformat()]["orders"] == 7
    assert got["day"]["rows"][NEXT.isoformat()]["revenue_cash"] == 6000  # F, 00:05
    # After midnight: C's refund (of day D) fails at the gateway, G (ready on D) is handed
    # over today. Day D's refunded and uncollected change; the answers still equal live.
    async with w.container.sessionmaker() as s, s.begin():
        await s.execute(
            update(Refund)
            .where(Refund.order_id == uuid.UUID(w.orders["C"]["id"]))
            .values(status="failed")
        )
    await w.kitchen("G", "handover", ist(NEXT, 12, 5))
    await w.at(ist(NEXT, 12, 10))
    after = await same_as_live(w, first, NEXT)
    d = after["day"]["rows"][D.isoformat()]
    assert (d["refunded"], d["uncollected"], d["orders"]) == (0, 0, 7)
    assert after["day"]["rows"][NEXT.isoformat()]["revenue_cash"] == 6000 + 1500
    assert await rolled_days(w.container) == days  # nothing was computed again


async def test_today_and_a_day_within_the_recall_window_are_never_read_from_the_rollup(
    world: World,
) -> None:
    w = world
    # A planted rollup row for today: were it read, today would count 999 orders.
    async with w.container.sessionmaker() as s, s.begin():
        s.add(ReportDay(day=NEXT, computed_at=w.clock.moment))
        s.add(
            ReportDayRollup(
                day=NEXT,
                grp="all",
                key="",
                orders=999,
                revenue_upi=0,
                revenue_cash=0,
                ready=0,
                prep_seconds=0.0,
                p90_prep=None,
                late=0,
                cancelled=0,
                ratings=0,
                rating_sum=0,
            )
        )
    await w.at(ist(NEXT, 12, 0))
    got = await same_as_live(w, D, NEXT)
    assert got["day"]["rows"][NEXT.isoformat()]["orders"] == 0
    async with w.container.sessionmaker() as s, s.begin():
        await s.execute(ReportDayRollup.__table__.delete().where(ReportDayRollup.day == NEXT))
        await s.execute(ReportDay.__table__.delete().where(ReportDay.day == NEXT))
    # Two minutes after the next midnight a recall may still undo a move of NEXT: open.
    after = NEXT + timedelta(days=1)
    await w.at(ist(after, 0, 2))
    await same_as_live(w, D, after)
    assert NEXT not in await rolled_days(w.container)
    await w.at(ist(after, 0, 10))
    await same_as_live(w, D, after)
    assert NEXT in await rolled_days(w.container)
    assert after not in await rolled_days(w.container)


async def test_a_recall_after_midnight_is_counted_on_its_day(world: World) -> None:
    """A handover at 23:58 recalled at 00:02: the day was not yet closed at 00:01, so the
    rollup written later has no cash for it."""
    w = world
    day = D + timedelta(days=3)
    await w.place("R", ist(day, 23, 45), (w.m.chai, 1))
    await w.kitchen("R", "preparing", ist(day, 23, 46))
    await w.kitchen("R", "ready", ist(day, 23, 52))
    await w.kitchen("R", "handover", ist(day, 23, 58))
    nxt = day + timedelta(days=1)
    await w.at(ist(nxt, 0, 1))
    before = await same_as_live(w, day, nxt)
    assert before["day"]["rows"][day.isoformat()]["revenue_cash"] == 1500
    assert day not in await rolled_days(w.container)
    await w.at(ist(nxt, 0, 2))
    r = await w.client.post(
        f"{API}/admin/orders/{w.orders['R']['id']}/recall",
        json={"reason": "wrong bag"},
        headers=w.h("k1"),
    )
    assert r.status_code == 200, r.text
    await w.at(ist(nxt, 12, 0))
    got = await same_as_live(w, day, nxt)
    assert day in await rolled_days(w.container)
    row = got["day"]["rows"][day.isoformat()]
    assert (row["revenue_cash"], row["orders"], row["ready"]) == (0, 1, 1)


async def test_an_unpaid_order_keeps_its_day_open_until_it_switches_to_cash(world: World) -> None:
    w = world
    day = D + timedelta(days=5)
    await w.place("U", ist(day, 23, 45), (w.m.chai, 1), payment_method="upi")
    nxt = day + timedelta(days=1)
    await w.at(ist(nxt, 9, 0))
    got = await same_as_live(w, day, nxt)
    assert got["payment_method"]["rows"]["upi"]["orders"] == 1
    assert day not in await rolled_days(w.container)  # U may still change its method
    await w.at(ist(nxt, 9, 1))
    r = await w.client.post(
        f"{API}/orders/{w.orders['U']['id']}/payment/switch-to-cash", headers=w.h("customer")
    )
    assert r.status_code == 200, r.text
    await w.at(ist(nxt, 9, 5))
    got = await same_as_live(w, day, nxt)
    assert day in await rolled_days(w.container)
    assert set(got["payment_method"]["rows"]) == {"cash"}
    assert got["payment_method"]["rows"]["cash"]["orders"] == 1


async def test_a_years_percentile_is_the_histograms_and_the_days_keep_theirs(world: World) -> None:
    w = world
    await w.at(ist(NEXT, 12, 0))
    start = NEXT - timedelta(days=364)
    data = (await w.get("sales", **{"from": start, "to": NEXT, "group": "day"}))["data"]
    # 480, 600, 600, 600, 1500 s: exact 1140; from 30-second buckets 16, 20 x3 and 50,
    # ranks 3 and 4 at 625 and 1515 s, interpolated at 0.6 (reports/histogram.py).
    assert data["totals"]["p90_prep_seconds"] == 1159.0
    assert data["totals"]["avg_prep_seconds"] == 756.0  # (600 + 600 + 1500 + 600 + 480) / 5
    rows = {r["key"]: r["figures"] for r in data["rows"]}
    assert data["totals"]["ready"] == 5  # W1 a week ago, and A B G F
    assert rows[D.isoformat()]["p90_prep_seconds"] == 1230.0
    assert rows[WEEK_AGO.isoformat()]["p90_prep_seconds"] == 600.0
    hours = (await w.get("sales", **{"from": start, "to": NEXT, "group": "hour"}))["data"]
    ready = [r["figures"] for r in hours["rows"] if r["figures"]["ready"]]
    assert ready and all(f["p90_prep_seconds"] is not None for f in ready)
    assert hours["totals"]["p90_prep_seconds"] == 1159.0


async def rollup_twice_case(client: Any, container: Container, clock: ManualClock) -> None:
    """The job run twice, then twice at once: each closed day is written once, and the
    order of two days ago is counted once."""
    m = await seed_menu(container)
    me = await login_customer(client, container)
    r = await place(client, me, order_body((m.chai, 1)))
    assert r.status_code == 201, r.text
    placed = container.clock.now()
    if hasattr(clock, "moment"):  # this module's frozen clock
        clock.moment += timedelta(days=2)
    else:
        clock.advance(2 * 86400)
    await rollup_days(container)
    days = await rolled_days(container)
    async with container.sessionmaker() as s:
        rows = await s.scalar(select(func.count()).select_from(ReportDayRollup))
    await rollup_days(container)
    await asyncio.gather(rollup_days(container), rollup_days(container))
    assert await rolled_days(container) == days and len(days) == 366
    async with container.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(ReportDayRollup)) == rows
        local = placed.astimezone(service.zone_of(container)).date()
        assert local in days
        kept = await s.scalar(
            select(ReportDayRollup.orders).where(
                ReportDayRollup.day == local, ReportDayRollup.grp == "all"
            )
        )
        assert kept == 1
        assert await s.scalar(select(func.count()).select_from(Order)) == 1


async def test_rollup_days_twice_writes_once(client, container, clock) -> None:
    await rollup_twice_case(client, container, clock)
