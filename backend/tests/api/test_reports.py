"""Reports and the manager's dashboard (issue 18), against orders whose figures are known
by hand: cash and UPI orders, a refund, cancellations by the customer and the kitchen, a
late ticket, an order never collected, a rating, and a day boundary in Asia/Kolkata (an
order made ready before midnight and handed over after it, a refund after midnight).
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from orders_helpers import Menu, order_body, place, seed_menu
from sqlalchemy import select, update

from canteen.core.clock import ManualClock, process_now
from canteen.core.container import Container
from canteen.orders.models import Order
from canteen.payments.models import Refund
from conftest import API, assert_error, bearer, count_rows, login_customer, login_staff

IST = ZoneInfo("Asia/Kolkata")
D = date(2026, 11, 10)  # a Tuesday
NEXT = D + timedelta(days=1)
WEEK_AGO = D - timedelta(days=7)
R = f"{API}/admin/reports"


def ist(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=IST)


class FrozenClock(ManualClock):
    """Stands still where the test puts it, so every duration is exact to the second."""

    def __init__(self) -> None:
        super().__init__()
        self.moment = process_now()

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def clock(settings: Any) -> FrozenClock:  # after the settings, which shift the clock
    return FrozenClock()


@dataclass
class World:
    client: httpx.AsyncClient
    container: Container
    clock: FrozenClock
    razorpay: Any
    m: Menu
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def at(self, when: datetime) -> None:
        """Move the clock to `when` and give everyone a token issued then."""
        self.clock.moment = when.astimezone(UTC)
        for s in self.sessions.values():
            r = await self.client.post(
                f"{API}/auth/refresh", json={"refresh_token": s["refresh_token"]}
            )
            assert r.status_code == 200, r.text
            s.update(r.json()["data"])

    def h(self, who: str) -> dict[str, str]:
        return bearer(self.sessions[who])

    async def place(self, name: str, when: datetime, *lines: tuple[uuid.UUID, int], **kw: Any):
        await self.at(when)
        r = await place(self.client, self.sessions["customer"], order_body(*lines, **kw))
        assert r.status_code == 201, r.text
        self.orders[name] = r.json()["data"]
        return self.orders[name]

    async def pay(self, name: str, when: datetime) -> None:
        await self.at(when)
        order = self.orders[name]
        r = httpx.post(
            f"{self.razorpay.base_url}/sandbox/pay",
            json={"order_id": order["payment"]["gateway_order_id"], "outcome": "success"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        r = await self.client.post(
            f"{API}/payments/verify",
            json={"order_id": order["id"], **r.json()},
            headers=self.h("customer"),
        )
        assert r.status_code == 200 and r.json()["data"]["status"] == "confirmed", r.text

    async def kitchen(self, name: str, status: str, when: datetime, who: str = "k1", **kw: Any):
        await self.at(when)
        oid = self.orders[name]["id"]
        if status == "handover":
            code = self.orders[name]["pickup_code"]
            r = await self.client.post(
                f"{API}/admin/orders/{oid}/handover",
                json={"pickup_code": code},
                headers=self.h(who),
            )
        else:
            r = await self.client.patch(
                f"{API}/admin/orders/{oid}/status",
                json={"status": status, **kw},
                headers=self.h(who),
            )
        assert r.status_code == 200, r.text

    async def cancel(self, name: str, reason: str, when: datetime) -> None:
        await self.at(when)
        oid = self.orders[name]["id"]
        r = await self.client.post(
            f"{API}/orders/{oid}/cancel", json={"reason": reason}, headers=self.h("customer")
        )
        assert r.status_code == 200, r.text

    async def get(self, path: str, who: str = "admin", **params: Any) -> Any:
        r = await self.client.get(f"{R}/{path}", params=params, headers=self.h(who))
        assert r.status_code == 200, r.text
        return r.json()

    async def csv(self, path: str, **params: Any) -> list[dict[str, str]]:
        r = await self.client.get(f"{R}/{path}", params=params, headers=self.h("admin"))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        return list(csv.DictReader(io.StringIO(r.text)))


async def _refunds_made(w: World, count: int) -> None:
    """Refunds are made by a job (in process, or by the Celery worker)."""
    deadline = time.monotonic() + 20
    while await count_rows(w.container, Refund) < count:
        assert time.monotonic() < deadline, "the refund job did not run"
        await w.container.jobs.drain()
        await asyncio.sleep(0.1)


async def _pin_refund(w: World, name: str, when: datetime) -> None:
    # Refund rows take the database's clock, not the injectable one: pin the moment so the
    # day it lands on is the one this test means.
    async with w.container.sessionmaker() as s, s.begin():
        await s.execute(
            update(Refund)
            .where(Refund.order_id == uuid.UUID(w.orders[name]["id"]))
            .values(created_at=when.astimezone(UTC))
        )


@pytest.fixture
async def world(client, container, clock, razorpay_sandbox) -> World:
    w = World(client, container, clock, razorpay_sandbox, await seed_menu(container))
    await w.at(ist(WEEK_AGO, 8, 0))
    w.sessions["customer"] = await login_customer(client, container)
    w.sessions["k1"] = await login_staff(client, container, "kitchen", "+919000000201")
    w.sessions["k2"] = await login_staff(client, container, "kitchen", "+919000000202")
    w.sessions["admin"] = await login_staff(client, container, "admin", "+919000000101")
    m = w.m
    # A week ago: one cash chai at 09:30 (ready in 10 min), one at 20:00 (after 18:00).
    await w.place("W1", ist(WEEK_AGO, 9, 30), (m.chai, 1))
    await w.kitchen("W1", "preparing", ist(WEEK_AGO, 9, 32))
    await w.kitchen("W1", "ready", ist(WEEK_AGO, 9, 40))
    await w.kitchen("W1", "handover", ist(WEEK_AGO, 9, 45))
    await w.place("W2", ist(WEEK_AGO, 20, 0), (m.chai, 1))
    # A: cash, 2 dosas (120.00), ready in 10 min, handed over by k1.
    await w.place("A", ist(D, 9, 0), (m.dosa, 2))
    await w.kitchen("A", "preparing", ist(D, 9, 2))
    await w.kitchen("A", "ready", ist(D, 9, 10))
    await w.kitchen("A", "handover", ist(D, 9, 15))
    # B: UPI, dosa + 2 chai (90.00), paid 10:01, ready 25 min later (late), rated 4.
    await w.place("B", ist(D, 10, 0), (m.dosa, 1), (m.chai, 2), payment_method="upi")
    await w.pay("B", ist(D, 10, 1))
    await w.kitchen("B", "preparing", ist(D, 10, 5))
    await w.kitchen("B", "ready", ist(D, 10, 26))
    await w.kitchen("B", "handover", ist(D, 10, 40))
    await w.at(ist(D, 11, 0))
    r = await client.post(
        f"{API}/orders/{w.orders['B']['id']}/feedback",
        json={"rating": 4, "comment": "good"},
        headers=w.h("customer"),
    )
    assert r.status_code == 200, r.text
    # C: UPI chai (15.00), paid, cancelled by the customer: refunded at 11:06.
    await w.place("C", ist(D, 11, 0), (m.chai, 1), payment_method="upi")
    await w.pay("C", ist(D, 11, 1))
    await w.cancel("C", "class got extended", ist(D, 11, 5))
    # E: cash samosa (20.00) cancelled by the kitchen.
    await w.place("E", ist(D, 12, 0), (m.samosa, 1))
    await w.kitchen("E", "cancelled", ist(D, 12, 10), reason="out of oil")
    # G: cash chai (15.00), ready at 13:10 and never collected.
    await w.place("G", ist(D, 13, 0), (m.chai, 1))
    await w.kitchen("G", "preparing", ist(D, 13, 2))
    await w.kitchen("G", "ready", ist(D, 13, 10))
    # H: UPI dosa (60.00) paid before midnight, cancelled and refunded after it.
    await w.place("H", ist(D, 23, 30), (m.dosa, 1), payment_method="upi")
    await w.pay("H", ist(D, 23, 31))
    # F: cash dosa (60.00) ready at 23:48, handed over by k2 at 00:05 the next day.
    await w.place("F", ist(D, 23, 40), (m.dosa, 1))
    await w.kitchen("F", "preparing", ist(D, 23, 42))
    await w.kitchen("F", "ready", ist(D, 23, 48))
    await w.kitchen("F", "handover", ist(NEXT, 0, 5), who="k2")
    await w.cancel("H", "wrong order", ist(NEXT, 0, 10))
    await _refunds_made(w, 2)
    await _pin_refund(w, "C", ist(D, 11, 6))
    await _pin_refund(w, "H", ist(NEXT, 0, 11))
    return w


def _late(w: World, names: list[str], ready: dict[str, datetime]) -> int:
    """Ready after the estimate the order was placed with."""
    return sum(
        1
        for n in names
        if ready[n]
        > datetime.fromisoformat(w.orders[n]["estimated_ready_at"].replace("Z", "+00:00"))
    )


READY = {
    "A": ist(D, 9, 10),
    "B": ist(D, 10, 26),
    "G": ist(D, 13, 10),
    "F": ist(D, 23, 48),
}


async def test_dashboard_today_so_far_against_last_week(world: World) -> None:
    w = world
    await w.at(ist(D, 18, 0))
    data = (await w.get("dashboard"))["data"]
    assert data["today"] == "2026-11-10" and data["last_week_day"] == "2026-11-03"
    assert data["time_zone"] == "Asia/Kolkata" and data["now"].startswith("2026-11-10T18:00")
    # Late means ready after the estimate each order was placed with (read back from the
    # API, so the check holds whatever the kitchen's estimate rule): B, 25 minutes for a
    # dosa and two chai, is late by any estimate; A, 10 minutes for dosas of 12, is not.
    late = _late(w, ["A", "B", "G"], READY)
    assert _late(w, ["B"], READY) == 1 and _late(w, ["A"], READY) == 0
    assert data["figures"] == {
        "orders": 5,  # A B C E G
        "revenue_upi": 9000 + 1500,
        "revenue_cash": 12000,
        "refunded": 1500,
        "net_revenue": 9000 + 1500 + 12000 - 1500,
        "ready": 3,
        "avg_prep_seconds": 900.0,  # (600 + 1500 + 600) / 3
        "p90_prep_seconds": 1320.0,  # 600 + 0.8 * 900
        "late": late,
        "cancelled": 2,
        "uncollected": 0,  # G is still waiting on its own day
        "ratings": 1,
        "avg_rating": 4.0,
    }
    assert data["last_week"] == {
        "orders": 1,  # W2 at 20:00 is after 18:00
        "revenue_upi": 0,
        "revenue_cash": 1500,
        "refunded": 0,
        "net_revenue": 1500,
        "ready": 1,
        "avg_prep_seconds": 600.0,
        "p90_prep_seconds": 600.0,
        "late": _late(w, ["W1"], {"W1": ist(WEEK_AGO, 9, 40)}),
        "cancelled": 0,
        "uncollected": 0,
        "ratings": 0,
        "avg_rating": None,
    }
    assert data["cancellations"] == [
        {"cancelled_by": "customer", "reason": "class got extended", "count": 1},
        {"cancelled_by": "kitchen", "reason": "out of oil", "count": 1},
    ]
    quarters = {q["start"]: q for q in data["per_quarter_hour"]}
    assert data["per_quarter_hour"][0]["start"] == "09:00"
    assert data["per_quarter_hour"][-1]["start"] == "18:00"
    assert len(quarters) == 37
    assert quarters["09:00"] == {"start": "09:00", "orders": 1, "last_week": 0}
    assert quarters["09:30"] == {"start": "09:30", "orders": 0, "last_week": 1}
    assert sum(q["orders"] for q in quarters.values()) == 5
    top = [
        (d["label"], d["orders"], d["quantity"], d["sales"], d["cancelled_quantity"])
        for d in data["top_dishes"]
    ]
    assert top == [
        ("Masala Dosa", 2, 3, 18000, 0),
        ("Cutting Chai", 3, 3, 4500, 1),
        ("Samosa", 1, 0, 0, 1),
    ]


async def test_sales_by_day_lands_each_change_on_its_own_local_day(world: World) -> None:
    w = world
    await w.at(ist(NEXT, 12, 0))
    data = (await w.get("sales", **{"from": D, "to": NEXT, "group": "day"}))["data"]
    assert data["from"] == "2026-11-10" and data["to"] == "2026-11-11"
    rows = {r["key"]: r["figures"] for r in data["rows"]}
    late = _late(w, ["A", "B", "G", "F"], READY)
    assert late >= 1
    assert rows["2026-11-10"] == {
        "orders": 7,
        "revenue_upi": 9000 + 1500 + 6000,
        "revenue_cash": 12000,  # F was handed over after midnight
        "refunded": 1500,  # H's refund came after midnight
        "net_revenue": 16500 + 12000 - 1500,
        "ready": 4,
        "avg_prep_seconds": 795.0,  # (600 + 1500 + 600 + 480) / 4
        "p90_prep_seconds": 1230.0,  # 600 + 0.7 * 900
        "late": late,
        "cancelled": 2,
        "uncollected": 1,  # G: its day is over
        "ratings": 1,
        "avg_rating": 4.0,
    }
    assert rows["2026-11-11"] == {
        "orders": 0,
        "revenue_upi": 0,
        "revenue_cash": 6000,
        "refunded": 6000,
        "net_revenue": 0,
        "ready": 0,
        "avg_prep_seconds": None,
        "p90_prep_seconds": None,
        "late": 0,
        "cancelled": 1,
        "uncollected": 0,
        "ratings": 0,
        "avg_rating": None,
    }
    totals = data["totals"]
    assert (totals["orders"], totals["revenue_upi"], totals["revenue_cash"]) == (7, 16500, 18000)
    assert (totals["refunded"], totals["net_revenue"], totals["cancelled"]) == (7500, 27000, 3)
    assert (totals["ready"], totals["avg_prep_seconds"], totals["uncollected"]) == (4, 795.0, 1)

    by_method = await w.get("sales", **{"from": D, "to": NEXT, "group": "payment_method"})
    methods = {r["key"]: r["figures"] for r in by_method["data"]["rows"]}
    assert (methods["cash"]["orders"], methods["upi"]["orders"]) == (4, 3)
    assert (methods["cash"]["revenue_cash"], methods["upi"]["revenue_upi"]) == (18000, 16500)
    assert (methods["cash"]["refunded"], methods["upi"]["refunded"]) == (0, 7500)
    assert (methods["cash"]["cancelled"], methods["upi"]["cancelled"]) == (1, 2)

    by_hour = await w.get("sales", **{"from": D, "to": NEXT, "group": "hour"})
    hours = {r["key"]: r for r in by_hour["data"]["rows"]}
    assert hours["9"]["label"] == "09:00-09:59"
    assert (hours["9"]["figures"]["orders"], hours["9"]["figures"]["revenue_cash"]) == (1, 12000)
    assert hours["0"]["figures"]["revenue_cash"] == 6000  # F, 00:05
    assert hours["23"]["figures"]["orders"] == 2  # H and F

    by_type = await w.get("sales", **{"from": D, "to": D, "group": "order_type"})
    assert [(r["key"], r["figures"]["orders"]) for r in by_type["data"]["rows"]] == [("pickup", 7)]
    by_slot = await w.get("sales", **{"from": D, "to": D, "group": "time_slot"})
    assert [(r["key"], r["figures"]["orders"]) for r in by_slot["data"]["rows"]] == [("allday", 7)]

    dishes = (await w.get("dishes", **{"from": D, "to": NEXT}))["data"]["rows"]
    assert [
        (d["label"], d["orders"], d["quantity"], d["sales"], d["cancelled_quantity"])
        for d in dishes
    ] == [
        ("Masala Dosa", 4, 4, 24000, 1),  # A 2, B 1, F 1; H cancelled
        ("Cutting Chai", 3, 3, 4500, 1),
        ("Samosa", 1, 0, 0, 1),
    ]
    cats = (await w.get("dishes", **{"from": D, "to": NEXT, "group": "category"}))["data"]["rows"]
    assert [(c["label"], c["orders"], c["quantity"], c["sales"]) for c in cats] == [
        ("Mains", 7, 7, 28500)
    ]


async def test_cash_drawer_refunds_and_feedback(world: World) -> None:
    w = world
    await w.at(ist(NEXT, 12, 0))
    days = (await w.get("cash-drawer", **{"from": D, "to": NEXT}))["data"]
    k1 = w.sessions["k1"]["user"]["id"]
    k2 = w.sessions["k2"]["user"]["id"]
    assert days == [
        {
            "day": "2026-11-10",
            "due": 12000 + 6000 + 1500,  # A, F and G were made ready that day
            "collected": 12000,
            "difference": 7500,
            "staff": [
                {"staff_id": k1, "name": "kitchen user", "handed_over": 1, "collected": 12000}
            ],
        },
        {
            "day": "2026-11-11",
            "due": 0,
            "collected": 6000,
            "difference": -6000,
            "staff": [
                {"staff_id": k2, "name": "kitchen user", "handed_over": 1, "collected": 6000}
            ],
        },
    ]
    refunds = await w.get("refunds", **{"from": D, "to": NEXT})
    assert refunds["meta"] == {"page": 1, "per_page": 100, "total": 2}
    async with w.container.sessionmaker() as s:
        gateway_ids = {
            str(r.order_id): r.gateway_refund_id for r in await s.scalars(select(Refund))
        }
    assert [
        (r["order_number"], r["at"], r["amount"], r["reason"], r["gateway_refund_id"])
        for r in refunds["data"]
    ] == [
        (
            w.orders["C"]["number"],
            "2026-11-10T11:06:00+05:30",
            1500,
            "class got extended",
            gateway_ids[w.orders["C"]["id"]],
        ),
        (
            w.orders["H"]["number"],
            "2026-11-11T00:11:00+05:30",
            6000,
            "wrong order",
            gateway_ids[w.orders["H"]["id"]],
        ),
    ]
    assert all(r["status"] in {"requested", "pending", "processed"} for r in refunds["data"])
    only_d = await w.get("refunds", **{"from": D, "to": D})
    assert [r["order_number"] for r in only_d["data"]] == [w.orders["C"]["number"]]

    fb = await w.get("feedback", **{"from": D, "to": NEXT})
    assert fb["meta"]["total"] == 1
    (row,) = fb["data"]
    assert (row["order_number"], row["rating"], row["comment"]) == (
        w.orders["B"]["number"],
        4,
        "good",
    )
    assert row["at"] == "2026-11-10T11:00:00+05:30"
    assert sorted(row["items"].split(", ")) == ["1x Masala Dosa", "2x Cutting Chai"]
    assert (await w.get("feedback", **{"from": D, "to": NEXT, "rating": 5}))["data"] == []
    assert len((await w.get("feedback", **{"from": D, "to": NEXT, "rating": 4}))["data"]) == 1


def _money(paise: int) -> str:
    return f"{paise / 100:.2f}"


def _cell(v: Any) -> str:
    return "" if v is None else str(v)


async def test_csv_rows_match_the_json(world: World) -> None:
    w = world
    await w.at(ist(NEXT, 12, 0))
    span = {"from": D, "to": NEXT}
    money = {"revenue_upi", "revenue_cash", "refunded", "net_revenue"}
    for group in ("day", "hour", "payment_method", "time_slot", "order_type"):
        data = (await w.get("sales", **span, group=group))["data"]
        rows = await w.csv("sales.csv", **span, group=group)
        expected = [*data["rows"], {"key": "total", "label": "Total", "figures": data["totals"]}]
        assert len(rows) == len(expected)
        for got, want in zip(rows, expected, strict=True):
            assert got[group] == want["key"] and got["label"] == want["label"]
            for k, v in want["figures"].items():
                assert got[k] == (_money(v) if k in money else _cell(v)), (group, k)
    for group in ("dish", "category"):
        data = (await w.get("dishes", **span, group=group))["data"]["rows"]
        rows = await w.csv("dishes.csv", **span, group=group)
        assert [
            (r[group], r["label"], r["orders"], r["quantity"], r["sales"], r["cancelled_quantity"])
            for r in rows
        ] == [
            (
                d["key"],
                d["label"],
                str(d["orders"]),
                str(d["quantity"]),
                _money(d["sales"]),
                str(d["cancelled_quantity"]),
            )
            for d in data
        ]
    days = (await w.get("cash-drawer", **span))["data"]
    rows = await w.csv("cash-drawer.csv", **span)
    assert [
        (r["day"], r["staff_id"], r["collected"], r["day_due"], r["day_difference"]) for r in rows
    ] == [
        (d["day"], s["staff_id"], _money(s["collected"]), _money(d["due"]), _money(d["difference"]))
        for d in days
        for s in d["staff"]
    ]
    assert rows[0]["day_difference"] == "75.00" and rows[1]["day_difference"] == "-60.00"
    refunds = (await w.get("refunds", **span))["data"]
    rows = await w.csv("refunds.csv", **span)
    assert [
        (
            r["order_id"],
            r["order_number"],
            r["at"],
            r["amount"],
            r["reason"],
            r["status"],
            r["gateway_id"],
        )
        for r in rows
    ] == [
        (
            x["order_id"],
            x["order_number"],
            x["at"],
            _money(x["amount"]),
            x["reason"],
            x["status"],
            _cell(x["gateway_refund_id"]),
        )
        for x in refunds
    ]
    assert [r["amount"] for r in rows] == ["15.00", "60.00"]
    feedback = (await w.get("feedback", **span))["data"]
    rows = await w.csv("feedback.csv", **span, rating=4)
    assert [(r["order_id"], r["at"], r["rating"], r["comment"], r["items"]) for r in rows] == [
        (f["order_id"], f["at"], str(f["rating"]), f["comment"], f["items"]) for f in feedback
    ]
    assert await w.csv("feedback.csv", **span, rating=1) == []


@pytest.mark.parametrize("role", ["kitchen", "delivery"])
async def test_staff_who_are_not_admins_are_refused(client, container, role) -> None:
    staff = await login_staff(client, container, role, "+919000000301")
    before = await count_rows(container, Order)
    for path in PATHS:
        r = await client.get(f"{R}/{path}", params=SPAN, headers=bearer(staff))
        err = assert_error(r, 403, "INSUFFICIENT_ROLE")
        assert err["message"] == "Your account is not allowed to do this"
        assert err["details"] == [{"required_roles": ["admin"], "role": role}]
        assert "text/csv" not in r.headers["content-type"]
    assert await count_rows(container, Order) == before


PATHS = [
    "dashboard",
    "sales",
    "sales.csv",
    "dishes",
    "dishes.csv",
    "cash-drawer",
    "cash-drawer.csv",
    "refunds",
    "refunds.csv",
    "feedback",
    "feedback.csv",
]
SPAN = {"from": "2026-11-10", "to": "2026-11-11"}


async def test_customers_and_strangers_are_refused(client, container) -> None:
    me = await login_customer(client, container)
    for path in PATHS:
        r = await client.get(f"{R}/{path}", params=SPAN, headers=bearer(me))
        err = assert_error(r, 403, "INSUFFICIENT_ROLE")
        assert err["details"] == [{"required_roles": ["admin"], "role": "customer"}]
        r = await client.get(f"{R}/{path}", params=SPAN)
        assert_error(r, 401, "INVALID_TOKEN")


@pytest.mark.parametrize("path", ["sales", "sales.csv", "refunds.csv", "feedback", "cash-drawer"])
async def test_bad_ranges_are_refused_before_anything_is_read(client, container, path) -> None:
    admin = await login_staff(client, container, "admin", "+919000000101")
    cases = [
        (
            {"from": "2026-11-11", "to": "2026-11-10"},
            "to",
            "before_from",
            "The last day comes before the first",
        ),
        ({"from": "2025-01-01", "to": "2026-11-10"}, "to", "too_long", "At most 366 days at once"),
        (
            {"from": "1999-12-31", "to": "2000-01-01"},
            "from",
            "out_of_range",
            "Choose a day from 2000-01-01 to 2099-12-31",
        ),
    ]
    for params, fieldname, issue, message in cases:
        r = await client.get(f"{R}/{path}", params=params, headers=bearer(admin))
        err = assert_error(r, 400, "VALIDATION_ERROR")
        assert err["message"] == "The request is not valid"
        (detail,) = err["details"]
        assert (detail["field"], detail["issue"], detail["message"]) == (fieldname, issue, message)
        assert "text/csv" not in r.headers["content-type"]
    r = await client.get(f"{R}/{path}", params={"to": "2026-11-10"}, headers=bearer(admin))
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in err["details"]] == ["from"]
    assert await count_rows(container, Order) == 0


async def test_an_unknown_grouping_is_refused(client, container) -> None:
    admin = await login_staff(client, container, "admin", "+919000000101")
    for path in ("sales", "sales.csv", "dishes"):
        r = await client.get(
            f"{R}/{path}", params={**SPAN, "group": "weather"}, headers=bearer(admin)
        )
        err = assert_error(r, 400, "VALIDATION_ERROR")
        assert [d["field"] for d in err["details"]] == ["group"]


async def test_an_empty_range_has_zero_figures_and_a_header_only_csv(client, container) -> None:
    admin = await login_staff(client, container, "admin", "+919000000101")
    r = await client.get(f"{R}/sales", params=SPAN, headers=bearer(admin))
    data = r.json()["data"]
    assert data["rows"] == [] and data["totals"]["orders"] == 0
    assert data["totals"]["avg_prep_seconds"] is None and data["totals"]["net_revenue"] == 0
    r = await client.get(f"{R}/refunds.csv", params=SPAN, headers=bearer(admin))
    assert r.text == "order_id,order_number,at,amount,reason,status,gateway_id\r\n"


async def test_a_display_token_is_refused(client, container) -> None:
    """The counter TV's token reads the display and nothing else, reports included."""
    admin = await login_staff(client, container, "admin", "+919000000101")
    r = await client.post(
        f"{API}/admin/displays", json={"name": "Counter TV"}, headers=bearer(admin)
    )
    assert r.status_code == 201, r.text
    token = r.json()["data"]["token"]
    for path in PATHS:
        r = await client.get(
            f"{R}/{path}", params=SPAN, headers={"Authorization": f"Bearer {token}"}
        )
        err = assert_error(r, 401, "INVALID_TOKEN")
        assert err["details"] == []
        r = await client.get(f"{R}/{path}", params={**SPAN, "token": token})
        assert_error(r, 401, "INVALID_TOKEN")
    assert await count_rows(container, Order) == 0


async def test_a_no_show_counts_as_uncollected_on_its_own_day(world: World) -> None:
    """Once the no-show sweep has moved G to not_collected, it is uncollected at once (not
    only after its day), and counted once."""
    from canteen.orders import no_shows

    w = world
    await w.at(ist(D, 18, 0))
    async with w.container.sessionmaker() as s, s.begin():
        due = await no_shows.uncollected(w.container, s)
        assert [str(i) for i in due] == [w.orders["G"]["id"]]
        assert await no_shows.mark_not_collected(w.container, s, due[0])
    today = (await w.get("dashboard"))["data"]["figures"]
    assert (today["uncollected"], today["ready"], today["orders"]) == (1, 3, 5)
    await w.at(ist(NEXT, 12, 0))
    rows = (await w.get("sales", **{"from": D, "to": NEXT}))["data"]["rows"]
    assert [(r["key"], r["figures"]["uncollected"]) for r in rows] == [
        ("2026-11-10", 1),
        ("2026-11-11", 0),
    ]


async def test_a_recalled_handover_leaves_the_cash_drawer(world: World) -> None:
    """The drawer reads the order's cash columns, which a recall clears (the handover's
    event stays in the log): after a recall A is not counted; handed over again by k2 it
    counts once, for k2."""
    w = world
    await w.at(ist(D, 9, 16))
    r = await w.client.post(
        f"{API}/admin/orders/{w.orders['A']['id']}/recall",
        json={"reason": "wrong bag"},
        headers=w.h("k1"),
    )
    assert r.status_code == 200, r.text
    await w.at(ist(NEXT, 12, 0))
    (d,) = [x for x in (await w.get("cash-drawer", **{"from": D, "to": D}))["data"]]
    assert (d["due"], d["collected"], d["difference"], d["staff"]) == (19500, 0, 19500, [])
    await w.kitchen("A", "handover", ist(D, 9, 20), who="k2")
    await w.at(ist(NEXT, 12, 0))
    (d,) = (await w.get("cash-drawer", **{"from": D, "to": D}))["data"]
    k2 = w.sessions["k2"]["user"]["id"]
    assert d["staff"] == [
        {"staff_id": k2, "name": "kitchen user", "handed_over": 1, "collected": 12000}
    ]
    assert (d["due"], d["collected"], d["difference"]) == (19500, 12000, 7500)
