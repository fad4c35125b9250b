"""The job that prints a kitchen order ticket on the canteen's network printer."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from canteen.core.jobs import RetryableJobError, job
from canteen.printing import escpos_ticket
from canteen.printing.service import get_printer_settings, ticket_for

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.printing")

# A ticket printed is printed for good (a second one would have the kitchen cook twice).
PRINTED_TTL_SECONDS = 7 * 24 * 3600
# Longer than a send (5 s connect timeout): a run killed mid-send frees the claim after it.
SENDING_TTL_SECONDS = 30


def claim_key(order_id: str, station: str | None) -> str:
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
    canteen printed on confirm when the order was confirmed (`confirmed_at`). Safe to run
    twice: the ticket is claimed before sending and marked printed after, so a second run
    prints nothing; a failed send gives the claim back and is retried (the printer was
    off or out of paper)."""
    async with c.sessionmaker() as session:
        settings = await get_printer_settings(session)
        since, host, port = settings.auto_print_since, settings.printer_host, settings.printer_port
        wanted = (
            settings.auto_print
            and since is not None
            and since <= datetime.fromisoformat(confirmed_at)
        )
        ticket = await ticket_for(
            session,
            uuid.UUID(order_id),
            timezone=c.settings.timezone,
            line_ids=[uuid.UUID(i) for i in line_ids] if line_ids is not None else None,
            station=station,
        )
        await session.commit()  # the settings row may have just been made
    if not wanted or not host:
        return  # off when the order was confirmed, or switched off since
    if ticket is None or not ticket.lines:
        log.warning("no ticket to print for order %s", order_id)
        return
    claim = claim_key(order_id, station)
    if not await c.kv.set(claim, "sending", SENDING_TTL_SECONDS, nx=True):
        if await c.kv.get(claim) == b"printed":
            return
        raise RetryableJobError("another run is printing this ticket")
    try:
        await asyncio.to_thread(escpos_ticket.send, host, port, escpos_ticket.render(ticket))
    except OSError as exc:
        await c.kv.delete(claim)
        raise RetryableJobError(f"printer {host}:{port} unreachable: {exc}") from exc
    except BaseException:
        await c.kv.delete(claim)
        raise
    await c.kv.set(claim, "printed", PRINTED_TTL_SECONDS)
