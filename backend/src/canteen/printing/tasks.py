"""The jobs that print kitchen order tickets on the canteen's network printer.

A ticket printed twice is better than one never printed (the kitchen would not cook the
order): at least once. The job takes a lease on the ticket in the database, sends the
bytes, then commits the printed mark (`canteen.core.once`), so a second run prints
nothing and a run killed mid-send is taken over once its lease ends; the ticket prints
twice only if the kill fell after the printer took the bytes. An order whose lines have
stations prints one ticket per station (that station's lines, its name as the heading)
on the station's own printer (the canteen's printer for a station without one), each
with its own mark. `printing.redrive_tickets`
prints the orders confirmed with printing on whose ticket was never marked (a lost job, a
printer down for longer than the job's retries) while the kitchen has them to cook.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.db import unit_of_work
from canteen.core.jobs import RetryableJobError, job
from canteen.core.once import JobMark, Outcome, effect_once
from canteen.orders.models import Order, OrderStatus
from canteen.printing import escpos_ticket
from canteen.printing.models import DEFAULT_PORT
from canteen.printing.service import (
    Share,
    Ticket,
    get_printer_settings,
    order_shares,
    station_share,
    ticket_for,
)

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.printing")

# Longer than a send (5 s connect and write timeouts): an older lease is a dead run's.
LEASE_SECONDS = 30.0
# Orders confirmed this long ago are re-driven if their ticket is missing and they are
# still to be cooked (confirmed or preparing); the grace leaves the order's own job time.
REDRIVE_WINDOW_SECONDS = 1800.0
REDRIVE_GRACE_SECONDS = 60.0
TO_COOK = (OrderStatus.confirmed.value, OrderStatus.preparing.value)


def claim_key(order_id: str | uuid.UUID, station: str | None) -> str:
    """The ticket's printed mark in job_marks (its lease is this key + ":lease")."""
    return f"kot:{order_id}:{station or '-'}"


@job("printing.print_ticket", max_retries=5)
async def print_ticket(
    c: Container,
    *,
    order_id: str,
    confirmed_at: str,
    station: str | None = None,
    line_ids: list[str] | None = None,
) -> None:
    """Print the ticket of one order (all its lines, or one station's `line_ids`) if the
    canteen printed on confirm when the order was confirmed (`confirmed_at`). A printer
    that is off or out of paper is retried; another run printing it makes this one wait."""
    outcome = await print_once(
        c,
        uuid.UUID(order_id),
        datetime.fromisoformat(confirmed_at),
        station=station,
        line_ids=[uuid.UUID(i) for i in line_ids] if line_ids is not None else None,
    )
    if outcome is Outcome.busy:
        raise RetryableJobError("another run is printing this ticket")


async def print_once(
    c: Container,
    order_id: uuid.UUID,
    confirmed_at: datetime,
    *,
    station: str | None = None,
    line_ids: list[uuid.UUID] | None = None,
) -> Outcome | None:
    """Print the order's tickets, one per station when its lines have stations (each
    marked printed on its own), or the one share asked for. None when there is nothing
    to print (printing off then or now, no lines)."""
    async with c.sessionmaker() as session:
        settings = await get_printer_settings(session)
        since, host, port = settings.auto_print_since, settings.printer_host, settings.printer_port
        wanted = settings.auto_print and since is not None and since <= confirmed_at
        if station is not None:
            shares = [await station_share(session, station, line_ids)]
        elif line_ids is not None:
            shares = [Share(None, None, line_ids)]
        else:
            shares = (await order_shares(session, [order_id]))[order_id]
        tickets = [
            (
                share,
                await ticket_for(
                    session,
                    order_id,
                    timezone=c.settings.timezone,
                    line_ids=share.line_ids,
                    station=share.station,
                ),
            )
            for share in shares
        ]
        await session.commit()  # the settings row may have just been made
    if not wanted:
        return None  # off when the order was confirmed, or switched off since
    outcomes: list[Outcome] = []
    for share, ticket in tickets:
        if ticket is None or not ticket.lines:
            log.warning("no ticket to print for order %s (%s)", order_id, share.key or "all")
            continue
        # The station's own printer, else the canteen's (none: nothing to print to).
        to_host, to_port = share.printer or (host, port)
        if not to_host:
            continue
        key = claim_key(order_id, share.key)
        outcomes.append(await _print(c, key, to_host, to_port or DEFAULT_PORT, ticket))
    if not outcomes:
        return None
    # Busy if any share is another run's (the job waits for it), else done if any printed.
    for outcome in (Outcome.busy, Outcome.done):
        if outcome in outcomes:
            return outcome
    return Outcome.already


async def _print(c: Container, key: str, host: str, port: int, ticket: Ticket) -> Outcome:
    data = escpos_ticket.render(ticket)

    async def send() -> None:
        try:
            await asyncio.to_thread(escpos_ticket.send, host, port, data)
        except OSError as exc:
            raise RetryableJobError(f"printer {host}:{port} unreachable: {exc}") from exc

    return await effect_once(
        c.sessionmaker, key, clock=c.clock, lease_seconds=LEASE_SECONDS, effect=send
    )


@job("printing.redrive_tickets", max_retries=0)
async def redrive_tickets(c: Container) -> None:
    """Sweep: with printing on, orders confirmed since it was switched on, 1 to 30 minutes
    ago, still to be cooked and without a printed mark are printed now, oldest first. An
    unreachable printer ends the sweep (the next one tries again)."""
    now = c.clock.now()
    async with c.sessionmaker() as session:
        due = await _tickets_due(session, now)
        await session.commit()  # the settings row may have just been made
    for order_id, confirmed in due:
        try:
            await print_once(c, order_id, confirmed)  # busy: its owner is printing it
        except RetryableJobError as exc:
            log.warning("tickets not re-driven, next sweep: %s", exc)
            break
        except Exception:
            log.warning("ticket for order %s not printed; next sweep", order_id, exc_info=True)
    async with unit_of_work(c.sessionmaker) as session:
        # Marks outlive the window by a day, then go.
        await session.execute(
            delete(JobMark).where(
                JobMark.key.like("kot:%"), JobMark.created_at < now - timedelta(days=1)
            )
        )


async def _tickets_due(session: AsyncSession, now: datetime) -> list[tuple[uuid.UUID, datetime]]:
    settings = await get_printer_settings(session)
    since = settings.auto_print_since
    if not (settings.auto_print and settings.printer_host and since is not None):
        return []
    oldest = max(since, now - timedelta(seconds=REDRIVE_WINDOW_SECONDS))
    rows = (
        await session.execute(
            select(Order.id, Order.confirmed_at)
            .where(
                Order.status.in_(TO_COOK),
                Order.confirmed_at >= oldest,
                Order.confirmed_at <= now - timedelta(seconds=REDRIVE_GRACE_SECONDS),
            )
            .order_by(Order.confirmed_at)
            .limit(200)
        )
    ).tuples()
    due = [(order_id, confirmed) for order_id, confirmed in rows if confirmed is not None]
    # Due while any of its tickets (one per station) has no printed mark.
    shares = await order_shares(session, [order_id for order_id, _ in due])
    wanted = {
        order_id: {claim_key(order_id, share.key) for share in shares[order_id]}
        for order_id, _ in due
    }
    keys = set().union(*wanted.values()) if wanted else set()
    done = set(await session.scalars(select(JobMark.key).where(JobMark.key.in_(keys))))
    return [(order_id, confirmed) for order_id, confirmed in due if wanted[order_id] - done]
