"""Kitchen tickets per station (issue 17, part 7): when an order's dishes have stations, the
kitchen prints one ticket per station, each with that station's lines under its name and
its own cut and printed mark, on the station's own printer or else the canteen's; an order
of no station prints one ticket as before. The printers are TCP stand-ins."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from orders_helpers import seed_menu
from printer_standin import PrinterStandIn
from sqlalchemy import delete
from test_payments import eventually
from test_printing import CUT, printer, switch
from test_printing_once import marks

from canteen.core.db import utcnow
from canteen.core.once import JobMark
from canteen.printing.tasks import claim_key, print_ticket, redrive_tickets
from canteen.stations.models import Station
from conftest import API, assert_error, bearer, login_customer, login_staff

__all__ = ["printer"]  # a fixture


async def _station(client, admin, name: str, sort_order: int) -> str:
    r = await client.post(
        f"{API}/admin/stations",
        json={"name": name, "sort_order": sort_order},
        headers=bearer(admin),
    )
    assert r.status_code == 201, r.text
    station_id: str = r.json()["data"]["id"]
    return station_id


async def _assign(client, admin, item_id: uuid.UUID, station_id: str) -> None:
    r = await client.put(
        f"{API}/admin/menu/items/{item_id}/station",
        json={"station_id": station_id},
        headers=bearer(admin),
    )
    assert r.status_code == 200, r.text


async def _order(client, me, lines: list[tuple[uuid.UUID, int]]) -> dict[str, Any]:
    body = {
        "items": [{"menu_item_id": str(item), "quantity": n} for item, n in lines],
        "order_type": "pickup",
        "payment_method": "cash",
        "time_slot": "allday",
    }
    headers = {**bearer(me), "X-Idempotency-Key": str(uuid.uuid4())}
    r = await client.post(f"{API}/orders", json=body, headers=headers)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def _lines(ticket: bytes) -> set[bytes]:
    return {name for name in (b"Masala Dosa", b"Cutting Chai", b"Samosa") if name in ticket}


async def _tawa_and_drinks(client, container, printer) -> tuple[Any, dict[str, Any], str, str]:
    """Dosa at the tawa, chai at Beverages, printing on to the stand-in; a signed-in student."""
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    me = await login_customer(client, container)
    tawa = await _station(client, admin, "Dosa tawa", 0)
    drinks = await _station(client, admin, "Beverages", 1)
    await _assign(client, admin, m.dosa, tawa)
    await _assign(client, admin, m.chai, drinks)
    await switch(
        client, admin, auto_print=True, printer_host="127.0.0.1", printer_port=printer.port
    )
    return m, me, tawa, drinks


async def _until_marked(container: Any, keys: set[str]) -> None:
    """A job marks its ticket printed after sending it, so the paper can be out before the
    mark is (on Celery `jobs.drain` waits for nothing): wait for the marks."""

    async def marked() -> bool:
        return await marks(container) == keys

    await eventually(marked)


async def test_two_stations_print_one_ticket_each_once(client, container, clock, printer):
    m, me, tawa, drinks = await _tawa_and_drinks(client, container, printer)
    order = await _order(client, me, [(m.chai, 3), (m.dosa, 1)])
    tickets = await printer.wait_for(2)
    await container.jobs.drain()
    # In the stations' order, each its own lines under its name, each cut.
    first, second = tickets
    assert b"Station: Dosa tawa" in first and _lines(first) == {b"Masala Dosa"}
    assert b"1 x Masala Dosa" in first
    assert b"Station: Beverages" in second and _lines(second) == {b"Cutting Chai"}
    assert b"3 x Cutting Chai" in second
    for ticket in tickets:
        assert order["number"].encode() in ticket
        assert ticket.count(CUT) == 1 and ticket.endswith(CUT + b"\x00")
    keys = {claim_key(order["id"], tawa), claim_key(order["id"], drinks)}
    await _until_marked(container, keys)
    # The job again, twice at once, and the sweep: every station's ticket is marked.
    now = utcnow().isoformat()
    await asyncio.gather(
        print_ticket(container, order_id=order["id"], confirmed_at=now),
        print_ticket(container, order_id=order["id"], confirmed_at=now),
    )
    clock.advance(61)
    await redrive_tickets(container)
    await asyncio.sleep(0.5)  # a third ticket would have arrived by now
    assert len(printer.tickets) == 2
    assert await marks(container) == keys


async def test_the_sweep_prints_the_one_station_ticket_that_is_missing(
    client, container, clock, printer
):
    m, me, tawa, drinks = await _tawa_and_drinks(client, container, printer)
    order = await _order(client, me, [(m.dosa, 1), (m.chai, 1)])
    await printer.wait_for(2)
    await _until_marked(container, {claim_key(order["id"], tawa), claim_key(order["id"], drinks)})
    # The Beverages ticket's mark lost (its paper never came out, say): only it again.
    async with container.sessionmaker() as s, s.begin():
        await s.execute(delete(JobMark).where(JobMark.key == claim_key(order["id"], drinks)))
    clock.advance(61)
    await redrive_tickets(container)
    tickets = await printer.wait_for(3)
    assert b"Station: Beverages" in tickets[2] and _lines(tickets[2]) == {b"Cutting Chai"}
    await redrive_tickets(container)
    await asyncio.sleep(0.5)
    assert len(printer.tickets) == 3
    assert await marks(container) == {
        claim_key(order["id"], tawa),
        claim_key(order["id"], drinks),
    }


async def test_lines_of_no_station_print_apart_and_an_order_of_none_prints_once(
    client, container, printer
):
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    me = await login_customer(client, container)
    tawa = await _station(client, admin, "Dosa tawa", 0)
    await _assign(client, admin, m.dosa, tawa)
    await switch(
        client, admin, auto_print=True, printer_host="127.0.0.1", printer_port=printer.port
    )
    mixed = await _order(client, me, [(m.dosa, 1), (m.samosa, 2)])
    first, rest = await printer.wait_for(2)
    await container.jobs.drain()
    assert b"Station: Dosa tawa" in first and _lines(first) == {b"Masala Dosa"}
    assert b"Station:" not in rest and _lines(rest) == {b"Samosa"}
    # Stations exist, but none of this order's dishes has one: the one ticket of before.
    plain = await _order(client, me, [(m.chai, 1), (m.samosa, 1)])
    tickets = await printer.wait_for(3)
    await container.jobs.drain()
    await asyncio.sleep(0.5)
    assert len(printer.tickets) == 3
    assert b"Station:" not in tickets[2]
    assert _lines(tickets[2]) == {b"Cutting Chai", b"Samosa"}
    assert plain["number"].encode() in tickets[2]
    assert await marks(container) == {
        claim_key(mixed["id"], tawa),
        claim_key(mixed["id"], None),
        claim_key(plain["id"], None),
    }


async def test_a_station_with_its_own_printer_prints_there(client, container, clock, printer):
    """The tawa has its own printer; the drinks station has none, so its ticket goes to
    the canteen's printer. The job's sweep finds each mark where it was printed."""
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    me = await login_customer(client, container)
    tawa_printer = PrinterStandIn()
    try:
        r = await client.post(
            f"{API}/admin/stations",
            json={"name": "Dosa tawa", "printer_host": "127.0.0.1", "printer_port": 1},
            headers=bearer(admin),
        )
        assert r.status_code == 201, r.text
        tawa = r.json()["data"]["id"]
        assert (r.json()["data"]["printer_host"], r.json()["data"]["printer_port"]) == (
            "127.0.0.1",
            1,
        )
        r = await client.patch(
            f"{API}/admin/stations/{tawa}",
            json={"printer_port": tawa_printer.port},
            headers=bearer(admin),
        )
        assert r.json()["data"]["printer_port"] == tawa_printer.port
        assert r.json()["data"]["printer_host"] == "127.0.0.1"  # absent: unchanged
        drinks = await _station(client, admin, "Beverages", 1)
        await _assign(client, admin, m.dosa, tawa)
        await _assign(client, admin, m.chai, drinks)
        await switch(
            client, admin, auto_print=True, printer_host="127.0.0.1", printer_port=printer.port
        )
        order = await _order(client, me, [(m.chai, 1), (m.dosa, 2)])
        (at_tawa,) = await tawa_printer.wait_for(1)
        (at_counter,) = await printer.wait_for(1)
        await container.jobs.drain()
        assert b"Station: Dosa tawa" in at_tawa and _lines(at_tawa) == {b"Masala Dosa"}
        assert b"Station: Beverages" in at_counter and _lines(at_counter) == {b"Cutting Chai"}
        await _until_marked(
            container, {claim_key(order["id"], tawa), claim_key(order["id"], drinks)}
        )
        clock.advance(61)
        await redrive_tickets(container)
        await asyncio.sleep(0.5)
        assert (len(tawa_printer.tickets), len(printer.tickets)) == (1, 1)
        # Back to the canteen's printer, and refusals that change nothing.
        r = await client.patch(
            f"{API}/admin/stations/{tawa}", json={"printer_host": None}, headers=bearer(admin)
        )
        assert r.json()["data"]["printer_host"] is None
        for bad, field in (
            ({"printer_host": "kitchen printer"}, "printer_host"),
            ({"printer_port": 0}, "printer_port"),
            ({"printer_port": "9100"}, "printer_port"),
        ):
            r = await client.patch(f"{API}/admin/stations/{tawa}", json=bad, headers=bearer(admin))
            err = assert_error(r, 400, "VALIDATION_ERROR")
            assert err["details"][0]["field"].startswith(field), err
            if field == "printer_host":  # words for the admin's form, not the pattern
                assert err["details"][0]["message"] == (
                    "Give a host name or an IPv4 address, such as 10.0.0.7 or kitchen-printer"
                )
        async with container.sessionmaker() as s:
            row = await s.get(Station, uuid.UUID(tawa))
            assert (row.printer_host, row.printer_port) == (None, tawa_printer.port)
    finally:
        tawa_printer.close()
