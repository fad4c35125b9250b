"""Printer settings and what a kitchen order ticket says."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from canteen.core.db import after_commit, utcnow
from canteen.core.errors import ValidationFailed, field_error
from canteen.menu.models import MenuItem
from canteen.orders.models import Order, OrderItem
from canteen.printing.models import DEFAULT_PORT, SETTINGS_ID, PrinterSettings
from canteen.printing.schemas import PrinterSettingsUpdate
from canteen.stations.models import Station


async def get_printer_settings(session: AsyncSession) -> PrinterSettings:
    """The settings row, made with printing off the first time it is asked for."""
    row = await session.get(PrinterSettings, SETTINGS_ID)
    if row is not None:
        return row
    try:
        async with session.begin_nested():
            row = PrinterSettings(
                id=SETTINGS_ID, auto_print=False, printer_host=None, printer_port=DEFAULT_PORT
            )
            session.add(row)
    except IntegrityError:  # another transaction made it first
        row = await session.get(PrinterSettings, SETTINGS_ID, populate_existing=True)
        assert row is not None
    return row


# The switch as this process last read it, per database, at most SWITCH_FRESH_SECONDS old:
# the reaction to every confirmed order asks (issue 20: a read per order, one-at-a-time).
# A change made through this process is seen at once (update_printer_settings forgets it);
# one made through another process within the second may be missed by an order confirmed
# meanwhile, which `printing.redrive_tickets` then prints. A stale "on" costs only a job
# that finds printing off.
SWITCH_FRESH_SECONDS = 1.0
_AUTO_PRINT = select(PrinterSettings.auto_print).where(PrinterSettings.id == SETTINGS_ID)
_switch: WeakKeyDictionary[Engine, tuple[float, bool]] = WeakKeyDictionary()


async def printing_on(session: AsyncSession) -> bool:
    """Whether a confirmed order gets a ticket: the switch, read at most once a second."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    read_at, on = _switch.get(engine, (float("-inf"), False))
    if time.monotonic() - read_at >= SWITCH_FRESH_SECONDS:
        on = bool(await session.scalar(_AUTO_PRINT))  # no row yet: never switched on
        _switch[engine] = (time.monotonic(), on)
    return on


async def update_printer_settings(
    session: AsyncSession, body: PrinterSettingsUpdate
) -> PrinterSettings:
    row = await get_printer_settings(session)
    await session.refresh(row, with_for_update=True)
    requested = body.model_dump(exclude_unset=True)
    for always_set in ("auto_print", "printer_port"):  # these always have a value: null keeps it
        if always_set in requested and requested[always_set] is None:
            del requested[always_set]
    auto_print = requested.get("auto_print", row.auto_print)
    host = requested.get("printer_host", row.printer_host)
    if auto_print and not host:
        raise ValidationFailed(
            "Printing on confirm needs the printer's address",
            details=[
                field_error(
                    "printer_host",
                    "required",
                    "Give the printer's host (and port) before switching printing on",
                )
            ],
        )
    if auto_print != row.auto_print:
        row.auto_print_since = utcnow() if auto_print else None
    for field, value in requested.items():
        setattr(row, field, value)
    await session.flush()
    engine = session.get_bind()

    async def forget_switch() -> None:
        if isinstance(engine, Engine):
            _switch.pop(engine, None)

    after_commit(session, forget_switch)
    return row


@dataclass(frozen=True)
class TicketLine:
    quantity: int
    name: str
    notes: str | None


@dataclass(frozen=True)
class Ticket:
    """What a kitchen order ticket says: for the cooks, so no phone, name or pickup code."""

    order_number: str
    order_type: str
    placed_at: datetime  # in the canteen's time zone
    time_slot: str | None
    instructions: str | None
    lines: tuple[TicketLine, ...]
    station: str | None = None


async def ticket_for(
    session: AsyncSession,
    order_id: uuid.UUID,
    *,
    timezone: str,
    line_ids: list[uuid.UUID] | None = None,
    station: str | None = None,
) -> Ticket | None:
    """The ticket of an order, for all its lines or only `line_ids` (a station's share)."""
    order = await session.scalar(
        select(Order).where(Order.id == order_id).options(selectinload(Order.items))
    )
    if order is None:
        return None
    wanted = set(line_ids) if line_ids is not None else None
    lines = tuple(
        TicketLine(quantity=item.quantity, name=item.name, notes=item.notes)
        for item in sorted(order.items, key=lambda i: i.position)
        if wanted is None or item.id in wanted
    )
    return Ticket(
        order_number=order.number,
        order_type=order.order_type,
        placed_at=order.created_at.astimezone(ZoneInfo(timezone)),
        time_slot=order.time_slot,
        instructions=order.instructions,
        lines=lines,
        station=station,
    )


@dataclass(frozen=True)
class Share:
    """One ticket of an order: `key` names its printed mark (a station's id, None for the
    whole order or the lines of no station), `station` its heading, `line_ids` its lines
    (None: all of them)."""

    key: str | None
    station: str | None
    line_ids: list[uuid.UUID] | None
    printer: tuple[str, int | None] | None = None  # the station's own; None: the canteen's


async def order_shares(
    session: AsyncSession, order_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Share]]:
    """Each order's tickets: one per station its lines are made at (the dish's station as
    the menu says now), in the stations' order, then one for lines of no station; the
    whole order on one ticket when none of its lines has a station."""
    rows = (
        await session.execute(
            select(
                OrderItem.order_id,
                OrderItem.id,
                Station.id,
                Station.name,
                Station.printer_host,
                Station.printer_port,
            )
            .outerjoin(MenuItem, MenuItem.id == OrderItem.menu_item_id)
            .outerjoin(Station, Station.id == MenuItem.station_id)
            .where(OrderItem.order_id.in_(order_ids))
            .order_by(OrderItem.order_id, Station.sort_order, Station.name, OrderItem.position)
        )
    ).tuples()
    grouped: dict[uuid.UUID, dict[uuid.UUID | None, Share]] = {}
    for order_id, line_id, station_id, name, host, port in rows:
        groups = grouped.setdefault(order_id, {})
        if station_id not in groups:
            key = str(station_id) if station_id is not None else None
            groups[station_id] = Share(key, name, [], (host, port) if host else None)
        lines = groups[station_id].line_ids
        assert lines is not None
        lines.append(line_id)
    shares: dict[uuid.UUID, list[Share]] = {}
    for order_id in order_ids:
        groups = grouped.get(order_id, {})
        if set(groups) <= {None}:
            shares[order_id] = [Share(None, None, None)]
            continue
        shares[order_id] = [share for sid, share in groups.items() if sid is not None]
        if None in groups:
            shares[order_id].append(groups[None])
    return shares


async def station_share(
    session: AsyncSession, station: str, line_ids: list[uuid.UUID] | None
) -> Share:
    """The share a job names by its station (its id), with the station's own printer."""
    try:
        row = await session.get(Station, uuid.UUID(station))
    except ValueError:
        row = None
    printer = (row.printer_host, row.printer_port) if row and row.printer_host else None
    return Share(station, row.name if row else station, line_ids, printer)
