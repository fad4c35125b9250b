"""Kitchen tickets at least once (issue 13's rule): the printed mark is in the database
(job_marks, committed after the printer took the bytes), a lease keeps concurrent runs
from printing twice, and `printing.redrive_tickets` prints what a lost job or a long
printer outage left unprinted. The printer is the TCP stand-in; the faults are real: a
closed port, a Redis restarted empty."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import redis
from live import free_port
from orders_helpers import seed_menu
from printer_standin import PrinterStandIn
from sqlalchemy import select
from test_payments import eventually
from test_printing import place_order, printer, switch
from test_ready_sms_once import dispatched

from canteen.core.celery_queue import CeleryRunner
from canteen.core.container import Container
from canteen.core.db import utcnow
from canteen.core.jobs import RetryableJobError
from canteen.core.once import JobMark
from canteen.orders.models import Order
from canteen.printing.tasks import LEASE_SECONDS, claim_key, print_ticket, redrive_tickets
from conftest import login_customer, login_staff

__all__ = ["printer"]  # a fixture


async def marks(container: Container) -> set[str]:
    async with container.sessionmaker() as s:
        return set(await s.scalars(select(JobMark.key).where(JobMark.key.like("kot:%"))))


class Kitchen:
    def __init__(self, client: Any, container: Container) -> None:
        self.client, self.container = client, container

    async def open(self, port: int) -> Kitchen:
        self.menu = await seed_menu(self.container)
        self.admin = await login_staff(self.client, self.container, "admin", "+919000000101")
        self.me = await login_customer(self.client, self.container)
        await switch(
            self.client, self.admin, auto_print=True, printer_host="127.0.0.1", printer_port=port
        )
        return self

    async def lost_order(self, private_redis: Any, *, printing: bool = True) -> dict[str, Any]:
        """A confirmed order whose ticket job sat in a Redis that restarted empty (with
        printing off, none was enqueued: issue 20)."""
        healthy = self.container.jobs
        self.container.jobs = CeleryRunner(private_redis.url(1))  # a queue no worker reads
        try:
            order = await place_order(self.client, self.me, self.menu.dosa)
            await eventually(lambda: dispatched(self.container))
            queued = redis.Redis.from_url(private_redis.url(1)).llen("celery")
            assert queued >= 1 if printing else queued == 0
            private_redis.restart_empty()
        finally:
            self.container.jobs = healthy
        return order


async def test_a_printer_that_is_down_is_retried_and_prints_once_when_back(client, container):
    """The printer is off when the order is confirmed: the job retries, and the ticket
    prints once the printer is back on its port."""
    port = free_port()
    kitchen = await Kitchen(client, container).open(port)
    order = await place_order(client, kitchen.me, kitchen.menu.dosa)
    await asyncio.sleep(1.5)  # the job's first tries find nobody listening
    assert await marks(container) == set()
    back = PrinterStandIn(port)
    try:
        [ticket] = await back.wait_for(1, timeout=40)
        assert order["number"].encode() in ticket

        async def marked() -> bool:
            return await marks(container) == {claim_key(order["id"], None)}

        await eventually(marked)
        await container.jobs.drain()
        await asyncio.sleep(0.5)
        assert len(back.tickets) == 1
    finally:
        back.close()


async def ticket_redrive_case(
    client: Any, container: Container, clock: Any, private_redis: Any, printer: PrinterStandIn
) -> None:
    """A ticket whose job Redis lost is printed by the sweep, once, though sweeps race
    (used by test_faults_jobs' run-twice guard too)."""
    kitchen = await Kitchen(client, container).open(printer.port)
    order = await kitchen.lost_order(private_redis)
    await redrive_tickets(container)  # too fresh: its job may still be on the way
    await asyncio.sleep(0.3)
    assert printer.tickets == []
    clock.advance(61)
    await asyncio.gather(redrive_tickets(container), redrive_tickets(container))
    await redrive_tickets(container)
    [ticket] = await printer.wait_for(1)
    assert order["number"].encode() in ticket
    assert await marks(container) == {claim_key(order["id"], None)}
    await asyncio.sleep(0.3)
    assert len(printer.tickets) == 1


async def test_a_ticket_whose_job_redis_lost_is_redriven_once(
    client, container, clock, private_redis, printer
):
    await ticket_redrive_case(client, container, clock, private_redis, printer)


async def test_the_sweep_prints_only_orders_still_to_cook_within_its_window(
    client, container, clock, private_redis, printer
):
    kitchen = await Kitchen(client, container).open(printer.port)
    await switch(client, kitchen.admin, auto_print=False)
    off = await kitchen.lost_order(private_redis, printing=False)
    await switch(client, kitchen.admin, auto_print=True)  # on again: later orders only
    clock.advance(61)
    await redrive_tickets(container)

    old = await kitchen.lost_order(private_redis)
    clock.advance(1801)  # confirmed over 30 minutes ago: cooked or forgotten by now
    await redrive_tickets(container)

    served = await kitchen.lost_order(private_redis)
    async with container.sessionmaker() as s, s.begin():
        row = await s.get(Order, uuid.UUID(served["id"]))
        assert row is not None
        row.status = "ready"  # the kitchen made it without the paper
    clock.advance(61)
    await redrive_tickets(container)
    await asyncio.sleep(0.5)
    assert printer.tickets == [] and await marks(container) == set()
    assert {off["status"], old["status"], served["status"]} == {"confirmed"}


async def test_a_printer_down_past_the_jobs_retries_is_printed_by_the_sweep(
    client, container, clock, private_redis
):
    port = free_port()
    kitchen = await Kitchen(client, container).open(port)
    orders = [await kitchen.lost_order(private_redis) for _ in range(2)]
    now = utcnow().isoformat()
    with pytest.raises(RetryableJobError, match="unreachable"):
        await print_ticket(container, order_id=orders[0]["id"], confirmed_at=now)  # last try
    assert await marks(container) == set()  # the lease was given back
    clock.advance(61)
    await redrive_tickets(container)  # still down: the sweep stops at the first order
    assert await marks(container) == set()
    back = PrinterStandIn(port)
    try:
        await redrive_tickets(container)
        tickets = await back.wait_for(2)
        for order, ticket in zip(orders, tickets, strict=True):  # oldest first
            assert order["number"].encode() in ticket
        await redrive_tickets(container)
        await asyncio.sleep(0.3)
        assert len(back.tickets) == 2
        assert await marks(container) == {claim_key(o["id"], None) for o in orders}
    finally:
        back.close()


async def test_a_dead_runs_lease_is_taken_over_when_it_ends(
    client, container, clock, private_redis, printer
):
    """A worker killed mid-print leaves its lease: nobody prints while it may still be
    printing, and the ticket prints once it has ended (perhaps a second time: at least
    once)."""
    kitchen = await Kitchen(client, container).open(printer.port)
    order = await kitchen.lost_order(private_redis)
    clock.advance(61)
    lease = claim_key(order["id"], None) + ":lease"
    async with container.sessionmaker() as s, s.begin():
        s.add(JobMark(key=lease, created_at=clock.now()))
    now = utcnow().isoformat()
    with pytest.raises(RetryableJobError, match="another run is printing"):
        await print_ticket(container, order_id=order["id"], confirmed_at=now)
    await redrive_tickets(container)
    await asyncio.sleep(0.3)
    assert printer.tickets == [] and await marks(container) == {lease}
    clock.advance(LEASE_SECONDS)
    await print_ticket(container, order_id=order["id"], confirmed_at=now)
    await redrive_tickets(container)
    [ticket] = await printer.wait_for(1)
    assert order["number"].encode() in ticket
    assert await marks(container) == {claim_key(order["id"], None)}
