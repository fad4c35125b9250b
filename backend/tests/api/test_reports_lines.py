"""The rolled-up dish, category and cash drawer reports, and the percentile of long ranges
(issue 18): the answers from the daily lines and histograms equal the live computation
over the same range (the percentile: within one histogram bucket), whatever is cancelled
after a day has closed.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update
from test_reports import NEXT, WEEK_AGO, D, World, clock, ist, world
from test_reports_rollup import rolled_days

from canteen.core.container import Container
from canteen.menu.models import Category, MenuItem
from canteen.reports import histogram, ledger, queries, service
from canteen.reports.models import ReportDayLine
from canteen.reports.schemas import DishGroup, SalesGroup

__all__ = ["clock", "world"]  # fixtures used here: the frozen clock and the world it runs


async def live(c: Container, start: date, end: date) -> dict[str, Any]:
    """Dishes, categories and the cash drawer read without the rollup."""
    w = service.window(c, start, end)
    async with c.sessionmaker() as s:
        dishes = await service.live_dishes(s, w, DishGroup.dish)
        categories = await service.live_dishes(s, w, DishGroup.category)
        drawer = await ledger.cash_drawer(s, w)
    return {
        "dish": [r.model_dump(mode="json") for r in dishes],
        "category": [r.model_dump(mode="json") for r in categories],
        "cash": [d.model_dump(mode="json") for d in drawer],
    }


async def answer(w: World, start: date, end: date) -> dict[str, Any]:
    span = {"from": start, "to": end}
    return {
        "dish": (await w.get("dishes", **span, group="dish"))["data"]["rows"],
        "category": (await w.get("dishes", **span, group="category"))["data"]["rows"],
        "cash": (await w.get("cash-drawer", **span))["data"],
    }


async def same_as_live(w: World, start: date, end: date) -> dict[str, Any]:
    got = await answer(w, start, end)
    assert got == await live(w.container, start, end)
    return got


def dish(got: dict[str, Any], w: World, name: str) -> dict[str, Any]:
    (row,) = [r for r in got["dish"] if r["key"] == str(getattr(w.m, name))]
    return row


def due(got: dict[str, Any], day: date) -> int:
    (d,) = [x for x in got["cash"] if x["day"] == day.isoformat()]
    return int(d["due"])


async def test_a_cancel_after_the_day_closed_lands_on_the_day_it_was_made(world: World) -> None:
    """G (cash chai, ready on D) is cancelled by the kitchen the next day, after D's lines
    were written: D's chai and cash due drop at once, and still after NEXT's lines are
    written too (the cancel is kept on NEXT's lines, against D)."""
    w = world
    await w.at(ist(NEXT, 12, 0))
    first = WEEK_AGO - timedelta(days=1)
    got = await same_as_live(w, first, NEXT)
    assert D in await rolled_days(w.container)
    async with w.container.sessionmaker() as s:
        assert await s.scalar(select(ReportDayLine).where(ReportDayLine.origin == D).limit(1))
    day = await same_as_live(w, D, D)
    # Dosa on D: A 2 + B 1 + F 1 sold, H 1 cancelled after midnight; cash due A + G + F.
    dosa = dish(day, w, "dosa")
    assert (dosa["orders"], dosa["quantity"], dosa["cancelled_quantity"]) == (4, 4, 1)
    assert (dosa["sales"], due(day, D)) == (24000, 19500)
    chai = dish(day, w, "chai")
    assert (chai["quantity"], chai["cancelled_quantity"]) == (3, 1)  # B 2 + G 1; C
    await w.kitchen("G", "cancelled", ist(NEXT, 12, 5), reason="never collected")
    await w.at(ist(NEXT, 12, 10))
    after = await same_as_live(w, D, D)
    assert await same_as_live(w, first, NEXT) != got
    chai = dish(after, w, "chai")
    assert (chai["quantity"], chai["cancelled_quantity"], due(after, D)) == (2, 2, 18000)
    # Two days on, NEXT is closed and its lines hold G's cancel: the same answers.
    later = NEXT + timedelta(days=2)
    await w.place("L", ist(later, 9, 0), (w.m.chai, 1))
    await w.at(ist(later, 12, 0))
    assert await same_as_live(w, D, D) == after
    assert NEXT in await rolled_days(w.container)
    async with w.container.sessionmaker() as s:
        cancel = await s.scalar(
            select(ReportDayLine).where(
                ReportDayLine.origin == D,
                ReportDayLine.day == NEXT,
                ReportDayLine.grp == "dish",
                ReportDayLine.key == str(w.m.chai),
            )
        )
    assert cancel is not None and cancel.cancelled_quantity == 1
    whole = await same_as_live(w, first, later)
    assert dish(whole, w, "chai")["quantity"] == 2 + 2 + 1  # W1 W2 a week ago, B on D, L


async def test_a_dish_moved_to_another_category_is_read_live(world: World) -> None:
    """A category is the dish's category today: once dosa moves, the lines written with
    its old category are not used for the category report, which equals live."""
    w = world
    await w.at(ist(NEXT, 12, 0))
    before = await same_as_live(w, WEEK_AGO, NEXT)
    async with w.container.sessionmaker() as s, s.begin():
        tiffin = Category(id=uuid.uuid4(), name="Tiffin", sort_order=9)
        s.add(tiffin)
        await s.flush()
        await s.execute(
            update(MenuItem).where(MenuItem.id == w.m.dosa).values(category_id=tiffin.id)
        )
    after = await same_as_live(w, WEEK_AGO, NEXT)
    assert after["dish"] == before["dish"]
    assert {r["key"] for r in after["category"]} == {"Tiffin", "Mains"}
    assert {r["key"] for r in before["category"]} == {"Mains"}


async def test_a_years_percentile_comes_from_the_days_histograms(world: World) -> None:
    """Over more than 31 days the totals' and every non-day row's 90th percentile is the
    merged histograms', within one bucket of the exact value; the days keep their own."""
    w = world
    await w.place("T", ist(NEXT, 9, 0), (w.m.chai, 1))
    await w.kitchen("T", "preparing", ist(NEXT, 9, 1))
    await w.kitchen("T", "ready", ist(NEXT, 9, 13))  # today, live: 780 s
    await w.at(ist(NEXT, 12, 0))
    start = NEXT - timedelta(days=364)
    c = w.container
    win = service.window(c, start, NEXT)
    for group in SalesGroup:
        data = (await w.get("sales", **{"from": start, "to": NEXT, "group": group.value}))["data"]
        async with c.sessionmaker() as s:
            exact = await queries.p90_prep(s, win, queries.keyer(group, win.zone))
            overall = (await queries.p90_prep(s, win))["all"]
        got = data["totals"]["p90_prep_seconds"]
        assert abs(got - overall) < histogram.BUCKET, group
        for row in data["rows"]:
            p90 = row["figures"]["p90_prep_seconds"]
            if row["key"] in exact:
                assert abs(p90 - exact[row["key"]]) < histogram.BUCKET, (group, row["key"])
                if group == SalesGroup.day:
                    assert p90 == round(exact[row["key"]], 1)  # a day's own is exact
            else:
                assert p90 is None
    data = (await w.get("sales", **{"from": start, "to": NEXT, "group": "day"}))["data"]
    assert data["totals"]["ready"] == 6  # W1 a week ago, A B G F, and T today


def test_the_histograms_percentile_interpolates_within_buckets() -> None:
    # 480, 600, 600, 600, 1500 s: exact 1140 (percentile_cont); buckets 16, 20 x3, 50.
    h = {16: 1, 20: 3, 50: 1}
    assert histogram.percentile(h) == 625 + (1515 - 625) * 0.6
    assert abs(histogram.percentile(h) - 1140) < histogram.BUCKET
    assert histogram.percentile({}) is None
    assert histogram.decode(histogram.encode(h)) == h
