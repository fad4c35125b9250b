"""Canteen settings: GET /config/public (what the apps need, the current slot) and
PATCH /admin/config; bad settings refused with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from menu_support import (
    admin_session,
    bearer_now,
    counts,
    etag,
    events,
    kitchen_session,
    make_slots,
    set_local_time,
    small_menu,
)

from canteen.menu import service as menu
from canteen.menu.models import CanteenConfig, TimeSlot
from conftest import API, assert_error, bearer, count_rows, login_customer

PUBLIC_KEYS = {
    "delivery_enabled",
    "cash_payment_enabled",
    "upi_payment_enabled",
    "restaurant_open",
    "ordering_paused",
    "accepting_orders",
    "delivery_fee",
    "currency",
    "max_items_per_order",
    "max_order_total",
    "ready_sms_enabled",
    "razorpay_key_id",
    "timezone",
    "time_slots",
    "current_time_slot",
    "server_time",
}


async def test_public_config_defaults_without_signing_in(client, container):
    assert await count_rows(container, CanteenConfig) == 0  # wiped by the test harness
    r = await client.get(f"{API}/config/public")
    assert r.status_code == 200
    data = r.json()["data"]
    assert set(data) == PUBLIC_KEYS
    assert data["delivery_enabled"] is True
    assert data["cash_payment_enabled"] is True and data["upi_payment_enabled"] is True
    assert data["restaurant_open"] is True and data["ordering_paused"] is False
    assert data["accepting_orders"] is True
    assert data["delivery_fee"] == 2000 and data["currency"] == "INR"
    assert data["razorpay_key_id"] == container.settings.razorpay_key_id
    assert data["timezone"] == "Asia/Kolkata"
    assert data["time_slots"] == [] and data["current_time_slot"] is None
    assert data["server_time"].endswith("Z")
    assert await count_rows(container, CanteenConfig) == 1  # the default row was created


async def test_public_config_lists_active_slots_and_the_current_one(client, container, clock):
    m = await small_menu(client, container)
    r = await client.patch(
        f"{API}/admin/time-slots/{m.slots['snacks']}",
        json={"is_active": False},
        headers=bearer(m.admin),
    )
    assert r.status_code == 200
    set_local_time(clock, "12:30")
    data = (await client.get(f"{API}/config/public")).json()["data"]
    assert data["time_slots"] == [
        {"code": "breakfast", "label": "Breakfast", "start_time": "07:30:00", "end_time": "10:30:00"},
        {"code": "lunch", "label": "Lunch", "start_time": "12:00:00", "end_time": "15:00:00"},
        {"code": "dinner", "label": "Dinner", "start_time": "19:30:00", "end_time": "22:00:00"},
    ]  # fmt: skip
    assert data["current_time_slot"] == "lunch"
    for hhmm, current in (
        ("07:29", None),
        ("07:30", "breakfast"),  # a slot starts at its start time...
        ("10:29", "breakfast"),
        ("10:30", None),  # ...and is over at its end time
        ("17:00", None),  # snacks is switched off
        ("21:59", "dinner"),
        ("23:30", None),
    ):
        set_local_time(clock, hhmm)
        data = (await client.get(f"{API}/config/public")).json()["data"]
        assert data["current_time_slot"] == current, hhmm


async def test_the_slots_shown_are_those_the_query_lists_in_its_order(client, container):
    """`/config/public` reads the active slots by the direct path: the rows and the order
    of `list_slots(active_only=True)`, ties in sort order broken by start time, then code."""
    from sqlalchemy import inspect

    from canteen.menu.slots import active_slots_to_show, list_slots

    m = await small_menu(client, container)
    for code, body in (("snacks", {"is_active": False}), ("dinner", {"sort_order": 0})):
        r = await client.patch(
            f"{API}/admin/time-slots/{m.slots[code]}", json=body, headers=bearer(m.admin)
        )
        assert r.status_code == 200, r.text
    columns = [c.key for c in inspect(TimeSlot).column_attrs]
    async with container.sessionmaker() as s:
        queried = [[getattr(t, c) for c in columns] for t in await list_slots(s, active_only=True)]
    async with container.sessionmaker() as s:
        shown = await active_slots_to_show(s)
        assert not s.identity_map  # outside the session: nothing to refresh or write
    assert [[getattr(t, c) for c in columns] for t in shown] == queried
    assert "snacks" not in [t.code for t in shown] and len(shown) == 3


async def test_admin_changes_settings(client, container):
    admin = await admin_session(client, container)
    h = bearer(admin)
    r = await client.get(f"{API}/admin/config", headers=h)
    assert r.status_code == 200 and r.json()["data"]["delivery_fee"] == 2000
    change = {"delivery_fee": 3000, "ordering_paused": True, "upi_payment_enabled": False}
    r = await client.patch(f"{API}/admin/config", json=change, headers=h)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["delivery_fee"] == 3000 and data["ordering_paused"] is True
    assert data["upi_payment_enabled"] is False and data["cash_payment_enabled"] is True
    public = (await client.get(f"{API}/config/public")).json()["data"]
    assert public["accepting_orders"] is False and public["upi_payment_enabled"] is False
    [event] = await events(container, "config.updated")
    assert event.data == {"section": "settings", "changes": change}
    assert str(event.actor_id) == admin["user"]["id"]
    # The same values again: nothing changes, nothing is recorded.
    r = await client.patch(f"{API}/admin/config", json={"delivery_fee": 3000}, headers=h)
    assert r.status_code == 200
    assert len(await events(container, "config.updated")) == 1
    # Closing the canteen shows in the public settings.
    r = await client.patch(f"{API}/admin/config", json={"restaurant_open": False}, headers=h)
    public = (await client.get(f"{API}/config/public")).json()["data"]
    assert public["restaurant_open"] is False and public["accepting_orders"] is False


@pytest.mark.parametrize(
    ("start", "change", "details"),
    [
        (
            {},
            {"cash_payment_enabled": False, "upi_payment_enabled": False},
            [("cash_payment_enabled", "no_payment_method"), ("upi_payment_enabled", "no_payment_method")],
        ),
        ({"cash_payment_enabled": False}, {"upi_payment_enabled": False}, [("upi_payment_enabled", "no_payment_method")]),
        ({"upi_payment_enabled": False}, {"cash_payment_enabled": False, "delivery_fee": 0}, [("cash_payment_enabled", "no_payment_method")]),
        ({}, {"delivery_fee": -1}, [("delivery_fee", "greater_than_equal")]),
        ({}, {"delivery_fee": 1_000_01}, [("delivery_fee", "less_than_equal")]),
        ({}, {"delivery_fee": 20.5}, [("delivery_fee", "int_from_float")]),
        ({}, {"delivery_fee": None}, [("delivery_fee", "value_error")]),
        ({}, {"restaurant_open": None}, [("restaurant_open", "value_error")]),
        ({}, {"delivery_enabled": "sometimes"}, [("delivery_enabled", "bool_type")]),
        ({}, {"delivery_enabled": 1}, [("delivery_enabled", "bool_type")]),
    ],
)  # fmt: skip
async def test_bad_settings_are_refused_and_nothing_is_written(
    client, container, start, change, details
):
    admin = await admin_session(client, container)
    h = bearer(admin)
    if start:
        r = await client.patch(f"{API}/admin/config", json=start, headers=h)
        assert r.status_code == 200
    before = await counts(container)
    r = await client.patch(f"{API}/admin/config", json=change, headers=h)
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert [(d["field"], d["issue"]) for d in err["details"]] == details
    assert all(d["message"] for d in err["details"])
    assert await counts(container) == before


async def test_settings_are_for_admins(client, container):
    customer = await login_customer(client, container)
    kitchen = await kitchen_session(client, container)
    await client.get(f"{API}/config/public")  # creates the row
    before = await counts(container)
    for session in (customer, kitchen):
        r = await client.patch(
            f"{API}/admin/config", json={"delivery_fee": 0}, headers=bearer(session)
        )
        assert_error(r, 403, "INSUFFICIENT_ROLE")
        assert_error(
            await client.get(f"{API}/admin/config", headers=bearer(session)),
            403,
            "INSUFFICIENT_ROLE",
        )
    assert_error(await client.patch(f"{API}/admin/config", json={}), 401, "INVALID_TOKEN")
    assert await counts(container) == before


async def test_settings_changes_leave_the_menu_etags_alone(client, container, clock):
    m = await small_menu(client, container)
    set_local_time(clock, "13:00")
    tags = [
        await etag(client, "/menu/items"),
        await etag(client, "/menu/items", time_slot="current"),
    ]
    for change in ({"delivery_fee": 1000}, {"ordering_paused": True}, {"restaurant_open": False}):
        r = await client.patch(
            f"{API}/admin/config", json=change, headers=bearer_now(container, m.admin)
        )
        assert r.status_code == 200
        assert tags == [
            await etag(client, "/menu/items"),
            await etag(client, "/menu/items", time_slot="current"),
        ]


async def test_slot_changes_show_in_public_config(client, container, clock):
    admin = await admin_session(client, container)
    slots = await make_slots(client, admin)
    set_local_time(clock, "11:30")
    assert (await client.get(f"{API}/config/public")).json()["data"]["current_time_slot"] is None
    r = await client.patch(
        f"{API}/admin/time-slots/{slots['lunch']}",
        json={"start_time": "11:00", "label": "Early lunch"},
        headers=bearer_now(container, admin),
    )
    assert r.status_code == 200
    data = (await client.get(f"{API}/config/public")).json()["data"]
    assert data["current_time_slot"] == "lunch"
    assert data["time_slots"][1]["label"] == "Early lunch"


# ---- the service functions other domains use -----------------------------------------


async def test_get_config_creates_the_row_once(container):
    async with container.sessionmaker() as s, s.begin():
        first = await menu.get_config(s)
        again = await menu.get_config(s)
        assert first is again and first.id == 1 and first.currency == "INR"
        version = first.menu_version
        await menu.mark_menu_changed(s)
    async with container.sessionmaker() as s:
        assert (await menu.get_config(s)).menu_version == version + 1
        assert (await menu.slot_by_code(s, "lunch")) is None
    assert await count_rows(container, CanteenConfig) == 1


def slot(code: str, start: str, end: str, active: bool = True, order: int = 0) -> SimpleNamespace:
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return SimpleNamespace(
        code=code, start_time=time(h1, m1), end_time=time(h2, m2), is_active=active,
        sort_order=order,
    )  # fmt: skip


def test_current_slot_rules():
    ist = ZoneInfo("Asia/Kolkata")
    slots = [
        slot("dinner", "19:30", "22:00", order=3),
        slot("lunch", "12:00", "15:00", order=1),
        slot("late_lunch", "14:00", "16:00", order=2),  # overlaps lunch
        slot("closed", "10:00", "12:00", active=False, order=0),
    ]

    def at(hh: int, mm: int) -> str | None:
        now = datetime(2026, 1, 15, hh, mm, tzinfo=ist).astimezone(UTC)
        found = menu.current_slot(slots, now, "Asia/Kolkata")
        assert found is menu.current_slot(slots, now, ist)  # a zone name or a tzinfo
        return found.code if found else None

    assert at(11, 0) is None  # the slot there is inactive
    assert at(12, 0) == "lunch"
    assert at(14, 30) == "lunch"  # overlap: serving order decides
    assert at(15, 0) == "late_lunch"
    assert at(16, 0) is None
    assert at(21, 59) == "dinner"
    assert at(22, 0) is None
    # UTC 06:45 is 12:15 in Kolkata.
    assert menu.current_slot(slots, datetime(2026, 1, 15, 6, 45, tzinfo=UTC), ist).code == "lunch"
