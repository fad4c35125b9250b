"""Kitchen order tickets on paper (issue 17, part 7): the printer settings, and the ESC/POS
ticket a confirmed order sends to a network printer (a local TCP stand-in records it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from live import free_port
from orders_helpers import seed_menu
from printer_standin import PrinterStandIn
from sqlalchemy import func, select
from test_payments import eventually

from canteen.core.db import utcnow
from canteen.core.jobs import RetryableJobError
from canteen.core.once import JobMark
from canteen.events.models import Event
from canteen.orders.models import OrderItem
from canteen.printing.models import PrinterSettings
from canteen.printing.tasks import print_ticket
from conftest import API, assert_error, bearer, count_rows, login_customer, login_staff

CUT = b"\x1dV"  # GS V: cut the paper
NOTE = "extra chutney"


@pytest.fixture
def printer() -> Iterator[PrinterStandIn]:
    standin = PrinterStandIn()
    yield standin
    standin.close()


async def switch(client, admin, **body: Any) -> dict[str, Any]:
    r = await client.patch(f"{API}/admin/printing", json=body, headers=bearer(admin))
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def place_order(client, me, item: uuid.UUID, **extra: Any) -> dict[str, Any]:
    body = {
        "items": [{"menu_item_id": str(item), "quantity": 2, "notes": NOTE}],
        "order_type": "pickup",
        "payment_method": "cash",
        "time_slot": "allday",
        **extra,
    }
    headers = {**bearer(me), "X-Idempotency-Key": str(uuid.uuid4())}
    r = await client.post(f"{API}/orders", json=body, headers=headers)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def _settings(container) -> tuple[bool, str | None, int]:
    async with container.sessionmaker() as s:
        row = await s.get(PrinterSettings, 1)
        assert row is not None
        return row.auto_print, row.printer_host, row.printer_port


async def test_printer_settings_are_admins_and_checked(client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    me = await login_customer(client, container)
    r = await client.get(f"{API}/admin/printing", headers=bearer(admin))
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {
        "auto_print": False,
        "auto_print_since": None,
        "printer_host": None,
        "printer_port": 9100,
    }
    for session in (kitchen, me):
        for method, body in (("GET", None), ("PATCH", {"auto_print": False})):
            r = await client.request(
                method, f"{API}/admin/printing", json=body, headers=bearer(session)
            )
            assert_error(r, 403, "INSUFFICIENT_ROLE")
    assert_error(await client.get(f"{API}/admin/printing"), 401, "INVALID_TOKEN")
    # Switching on needs a printer to print to.
    r = await client.patch(
        f"{API}/admin/printing", json={"auto_print": True}, headers=bearer(admin)
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["message"] == "Printing on confirm needs the printer's address"
    assert err["details"] == [
        {
            "field": "printer_host",
            "issue": "required",
            "message": "Give the printer's host (and port) before switching printing on",
        }
    ]
    for bad, field in (
        ({"printer_port": 0}, "printer_port"),
        ({"printer_port": 70000}, "printer_port"),
        ({"printer_port": "9100"}, "printer_port"),
        ({"printer_host": "kitchen printer"}, "printer_host"),
        ({"printer_host": "-x"}, "printer_host"),
        ({"auto_print": "yes"}, "auto_print"),
    ):
        r = await client.patch(f"{API}/admin/printing", json=bad, headers=bearer(admin))
        err = assert_error(r, 400, "VALIDATION_ERROR")
        assert err["details"][0]["field"].endswith(field), err
    assert await _settings(container) == (False, None, 9100)
    data = await switch(client, admin, auto_print=True, printer_host="10.0.0.7", printer_port=9101)
    assert data["auto_print"] is True and data["auto_print_since"]
    assert await _settings(container) == (True, "10.0.0.7", 9101)
    # null leaves auto_print and the port as they are (once a 500: NOT NULL).
    data = await switch(client, admin, auto_print=None, printer_host="0", printer_port=None)
    assert data["auto_print"] is True and data["printer_port"] == 9101
    assert await _settings(container) == (True, "0", 9101)
    await switch(client, admin, printer_host="10.0.0.7")
    # The host cannot be taken away while printing is on; switched off, it can.
    r = await client.patch(
        f"{API}/admin/printing", json={"printer_host": None}, headers=bearer(admin)
    )
    assert_error(r, 400, "VALIDATION_ERROR")
    data = await switch(client, admin, auto_print=False, printer_host=None)
    assert data["auto_print_since"] is None
    assert await _settings(container) == (False, None, 9101)
    assert await count_rows(container, PrinterSettings) == 1


async def test_a_confirmed_order_prints_its_ticket_over_escpos(client, container, printer):
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    me = await login_customer(client, container)
    await switch(
        client, admin, auto_print=True, printer_host="127.0.0.1", printer_port=printer.port
    )
    order = await place_order(client, me, m.dosa, instructions="less spicy")
    [ticket] = await printer.wait_for(1)
    assert order["number"].encode() in ticket
    assert b"2 x Masala Dosa" in ticket
    assert f"note: {NOTE}".encode() in ticket
    assert b"Instructions: less spicy" in ticket
    placed = datetime.fromisoformat(order["created_at"].replace("Z", "+00:00"))
    local = placed.astimezone(ZoneInfo(container.settings.timezone))
    assert local.strftime("%d %b %Y %H:%M").encode() in ticket
    assert ticket.endswith(CUT + b"\x00"), ticket[-8:]  # a full cut ends the ticket
    assert ticket.count(CUT) == 1
    # A kitchen ticket: nothing of the customer's.
    assert order["pickup_code"].encode() not in ticket
    assert me["user"]["phone"].encode() not in ticket
    await asyncio.sleep(0.5)
    assert len(printer.tickets) == 1


async def test_only_orders_confirmed_while_printing_is_on_print(client, container, printer):
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    me = await login_customer(client, container)
    off = await place_order(client, me, m.dosa)  # printing is off by default
    await switch(
        client, admin, auto_print=True, printer_host="127.0.0.1", printer_port=printer.port
    )
    # An unpaid UPI order is not confirmed yet: no ticket for it.
    unpaid = await place_order(client, me, m.chai, payment_method="upi")
    assert unpaid["status"] == "received"
    first = await place_order(client, me, m.chai)
    await printer.wait_for(1)  # a job that runs after the switch-off prints nothing
    await switch(client, admin, auto_print=False)
    again_off = await place_order(client, me, m.dosa)
    await switch(client, admin, auto_print=True)
    second = await place_order(client, me, m.dosa)
    tickets = await printer.wait_for(2)
    await container.jobs.drain()
    await asyncio.sleep(0.5)  # a third would have arrived by now
    assert len(printer.tickets) == 2
    assert first["number"].encode() in tickets[0] and second["number"].encode() in tickets[1]
    for order in (off, unpaid, again_off):
        assert not any(order["number"].encode() in t for t in printer.tickets)


class EnqueuedJobs:
    """The container's job runner, noting every job enqueued through it."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.names: list[str] = []
        self.jobs: list[tuple[str, dict[str, Any]]] = []

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        self.names.append(name)
        self.jobs.append((name, kwargs))
        await self.runner.enqueue(name, **kwargs)

    async def drain(self) -> None:
        await self.runner.drain()


async def _dispatched(container) -> bool:
    async with container.sessionmaker() as s:
        return not await s.scalar(
            select(func.count()).select_from(Event).where(Event.dispatched_at.is_(None))
        )


async def test_with_printing_off_no_ticket_job_is_enqueued(client, container, printer, monkeypatch):
    """Issue 20: a Celery job per cash order only to read that printing was off was a third
    of the CPU a placement cost the machine. With printing on, each confirmed order still
    gets its job, and its ticket."""
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    me = await login_customer(client, container)
    jobs = EnqueuedJobs(container.jobs)
    monkeypatch.setattr(container, "jobs", jobs)
    off = await place_order(client, me, m.dosa)
    await eventually(lambda: _dispatched(container))
    assert "printing.print_ticket" not in jobs.names
    await switch(
        client, admin, auto_print=True, printer_host="127.0.0.1", printer_port=printer.port
    )
    on = [await place_order(client, me, m.dosa), await place_order(client, me, m.chai)]
    tickets = await printer.wait_for(2)
    assert jobs.names.count("printing.print_ticket") == 2
    printed = b"".join(tickets)
    assert all(o["number"].encode() in printed for o in on)
    assert off["number"].encode() not in printed


async def test_a_printer_that_is_down_is_retried_and_prints_once(client, container, printer):
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    me = await login_customer(client, container)
    order = await place_order(client, me, m.dosa)  # confirmed while off: its own job skips
    await container.jobs.drain()
    await switch(client, admin, auto_print=True, printer_host="127.0.0.1", printer_port=free_port())
    now = utcnow().isoformat()
    with pytest.raises(RetryableJobError, match="unreachable"):
        await print_ticket(container, order_id=order["id"], confirmed_at=now)
    async with container.sessionmaker() as s:  # lease given back, nothing marked
        assert list(await s.scalars(select(JobMark.key).where(JobMark.key.like("kot:%")))) == []
    await switch(client, admin, printer_port=printer.port)
    await print_ticket(container, order_id=order["id"], confirmed_at=now)
    [ticket] = await printer.wait_for(1)
    assert order["number"].encode() in ticket


async def print_twice_case(client, container, printer: PrinterStandIn) -> None:
    """The job run twice for one order prints one ticket (used by test_faults_jobs)."""
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    me = await login_customer(client, container)
    order = await place_order(client, me, m.dosa)  # printing off: no automatic ticket
    await container.jobs.drain()
    await switch(
        client, admin, auto_print=True, printer_host="127.0.0.1", printer_port=printer.port
    )
    now = utcnow().isoformat()
    for _ in range(2):
        await print_ticket(container, order_id=order["id"], confirmed_at=now)
    [ticket] = await printer.wait_for(1)
    await asyncio.sleep(0.3)
    assert len(printer.tickets) == 1 and order["number"].encode() in ticket


async def test_one_stations_lines_print_on_their_own_ticket(client, container, printer):
    """The job takes a list of lines, so stations can each print their share."""
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    me = await login_customer(client, container)
    body = {
        "items": [
            {"menu_item_id": str(m.dosa), "quantity": 1},
            {"menu_item_id": str(m.chai), "quantity": 3},
        ],
        "order_type": "pickup",
        "payment_method": "cash",
        "time_slot": "allday",
    }
    headers = {**bearer(me), "X-Idempotency-Key": str(uuid.uuid4())}
    order = (await client.post(f"{API}/orders", json=body, headers=headers)).json()["data"]
    await container.jobs.drain()
    await switch(
        client, admin, auto_print=True, printer_host="127.0.0.1", printer_port=printer.port
    )
    async with container.sessionmaker() as s:
        chai_line = str(
            await s.scalar(
                select(OrderItem.id).where(
                    OrderItem.order_id == uuid.UUID(order["id"]), OrderItem.menu_item_id == m.chai
                )
            )
        )
    now = utcnow().isoformat()
    await print_ticket(
        container, order_id=order["id"], confirmed_at=now, station="Beverages", line_ids=[chai_line]
    )
    [ticket] = await printer.wait_for(1)
    assert b"Station: Beverages" in ticket and b"3 x Cutting Chai" in ticket
    assert b"Masala Dosa" not in ticket


async def test_a_switch_flipped_through_another_process_is_read_again(
    client, container, printer, monkeypatch
):
    """Each process keeps the switch for at most SWITCH_FRESH_SECONDS (issue 20); the
    process that changes it forgets it at once, another reads it again once that is up.
    The row written here straight to the table stands for another process's change."""
    from canteen.printing import service

    monkeypatch.setattr(service, "SWITCH_FRESH_SECONDS", 0.0)  # up at once
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    me = await login_customer(client, container)
    await switch(
        client, admin, auto_print=False, printer_host="127.0.0.1", printer_port=printer.port
    )
    off = await place_order(client, me, m.dosa)
    await eventually(lambda: _dispatched(container))  # the reaction read the switch: off
    async with container.sessionmaker() as s, s.begin():
        row = await s.get(PrinterSettings, 1)
        assert row is not None
        row.auto_print, row.auto_print_since = True, utcnow()
    on = await place_order(client, me, m.chai)
    [ticket] = await printer.wait_for(1)
    assert on["number"].encode() in ticket and off["number"].encode() not in ticket
