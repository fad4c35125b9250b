"""Stations: the admin's list, which dish each makes, and the per-line done marks.

A line belongs to the station of its dish as the menu says now. When every line of an
order is done the ticket says "all stations done"; with `auto_ready` on, a preparing (or
confirmed) order then turns ready by itself, through the one state machine.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.errors import Conflict, NotFound, field_error
from canteen.events.service import record_event
from canteen.events.types import EventType
from canteen.menu.config import bump_menu_version
from canteen.menu.models import MenuItem
from canteen.orders.events import record_order_event
from canteen.orders.models import Order, OrderItem, OrderStatus
from canteen.orders.service import transition
from canteen.orders.state import ACTIVE, Actor
from canteen.stations.models import FloorSettings, LineMark, Station
from canteen.stations.schemas import (
    FloorOut,
    OrderMarksOut,
    StationCreate,
    StationOut,
    StationUpdate,
)

OPEN = frozenset({OrderStatus.confirmed, OrderStatus.preparing})


class StationNameTaken(Conflict):
    code = "STATION_NAME_TAKEN"
    message = "A station with this name exists already"


class LineNotOpen(Conflict):
    code = "LINE_NOT_OPEN"
    message = "Lines are marked done only while the order is being made"


async def floor(session: AsyncSession) -> FloorOut:
    stations = list(
        await session.scalars(select(Station).order_by(Station.sort_order, Station.name))
    )
    items = (
        await session.execute(
            select(MenuItem.station_id, MenuItem.id).where(MenuItem.station_id.is_not(None))
        )
    ).all()
    by_station: dict[uuid.UUID, list[uuid.UUID]] = {}
    for station_id, item_id in items:
        by_station.setdefault(station_id, []).append(item_id)
    settings = await _settings(session)
    return FloorOut(
        stations=[
            StationOut(
                id=s.id,
                name=s.name,
                sort_order=s.sort_order,
                printer_host=s.printer_host,
                printer_port=s.printer_port,
                item_ids=sorted(by_station.get(s.id, [])),
            )
            for s in stations
        ],
        auto_ready=settings.auto_ready,
    )


async def get_station(session: AsyncSession, station_id: uuid.UUID) -> Station:
    station = await session.get(Station, station_id)
    if station is None:
        raise NotFound("No such station")
    return station


async def create_station(session: AsyncSession, body: StationCreate) -> Station:
    await _check_name(session, body.name, None)
    station = Station(
        name=body.name,
        sort_order=body.sort_order,
        printer_host=body.printer_host,
        printer_port=body.printer_port,
    )
    await _flush_named(session, station)
    return station


async def update_station(
    session: AsyncSession, station_id: uuid.UUID, body: StationUpdate
) -> Station:
    station = await get_station(session, station_id)
    if body.name is not None:
        await _check_name(session, body.name, station.id)
        station.name = body.name
    if body.sort_order is not None:
        station.sort_order = body.sort_order
    for field in {"printer_host", "printer_port"} & body.model_fields_set:
        setattr(station, field, getattr(body, field))
    await _flush_named(session, station)
    return station


async def delete_station(session: AsyncSession, station_id: uuid.UUID) -> None:
    """Its dishes keep being sold, with no station."""
    station = await get_station(session, station_id)
    moved = await session.execute(
        update(MenuItem).where(MenuItem.station_id == station.id).values(station_id=None)
    )
    await session.delete(station)
    await session.flush()
    if int(getattr(moved, "rowcount", 0) or 0):
        await bump_menu_version(session)


async def set_auto_ready(session: AsyncSession, on: bool) -> FloorOut:
    (await _settings(session)).auto_ready = on
    await session.flush()
    return await floor(session)


async def set_item_station(
    session: AsyncSession, item_id: uuid.UUID, station_id: uuid.UUID | None, *, actor_id: uuid.UUID
) -> MenuItem:
    if station_id is not None:
        await get_station(session, station_id)
    item = await session.get(MenuItem, item_id, with_for_update=True)
    if item is None:
        raise NotFound("No menu item with this id")
    if item.station_id != station_id:
        item.station_id = station_id
        await session.flush()
        version = await bump_menu_version(session)
        await record_event(
            session,
            EventType.menu_updated,
            data={
                "entity": "item",
                "action": "updated",
                "id": str(item.id),
                "changes": ["station_id"],
                "menu_version": version,
            },
            actor_id=actor_id,
        )
    await session.refresh(item, ["slots"])
    return item


async def active_marks(session: AsyncSession) -> list[LineMark]:
    rows = await session.scalars(
        select(LineMark)
        .join(Order, Order.id == LineMark.order_id)
        .where(Order.status.in_([s.value for s in ACTIVE]))
        .order_by(LineMark.order_id, LineMark.position)
    )
    return list(rows)


async def mark_line(
    session: AsyncSession,
    order_id: uuid.UUID,
    position: int,
    *,
    done: bool,
    actor: Actor,
    actor_id: uuid.UUID,
    now: datetime,
) -> OrderMarksOut:
    order = await session.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound("No such order")
    line = next((item for item in order.items if item.position == position), None)
    if line is None:
        raise NotFound("No such line in this order")
    if order.status not in OPEN:
        raise LineNotOpen(details=[field_error("status", "not_open", current=order.status)])
    existing = await session.get(LineMark, (order.id, position))
    if done != (existing is not None):
        if done:
            session.add(
                LineMark(order_id=order.id, position=position, done_at=now, done_by=actor_id)
            )
        else:
            await session.execute(
                delete(LineMark).where(LineMark.order_id == order.id, LineMark.position == position)
            )
        await session.flush()
        marked = await _done_positions(session, order.id)
        all_done = len(marked) == len(order.items)
        await record_order_event(
            session,
            EventType.order_line_done,
            order,
            actor_id=actor_id,
            data={
                "position": position,
                "done": done,
                "name": line.name,
                "station_id": await _station_of(session, line),
                "all_done": all_done,
            },
        )
        if done and all_done and (await _settings(session)).auto_ready:
            await _turn_ready(session, order, actor, actor_id, now)
    marked = await _done_positions(session, order.id)
    return OrderMarksOut(
        order_id=order.id,
        status=order.status,
        done=marked,
        all_done=len(marked) == len(order.items),
    )


async def _turn_ready(
    session: AsyncSession, order: Order, actor: Actor, actor_id: uuid.UUID, now: datetime
) -> None:
    if order.status == OrderStatus.confirmed:
        await transition(
            session, order, OrderStatus.preparing, actor=actor, actor_id=actor_id, now=now
        )
    await transition(
        session,
        order,
        OrderStatus.ready,
        actor=actor,
        actor_id=actor_id,
        now=now,
        reason="all stations done",
    )


async def _done_positions(session: AsyncSession, order_id: uuid.UUID) -> list[int]:
    rows = await session.scalars(
        select(LineMark.position).where(LineMark.order_id == order_id).order_by(LineMark.position)
    )
    return list(rows)


async def _station_of(session: AsyncSession, line: OrderItem) -> str | None:
    station_id = await session.scalar(
        select(MenuItem.station_id).where(MenuItem.id == line.menu_item_id)
    )
    return None if station_id is None else str(station_id)


async def _settings(session: AsyncSession) -> FloorSettings:
    settings = await session.get(FloorSettings, 1)
    if settings is None:
        settings = FloorSettings(id=1, auto_ready=False)
        session.add(settings)
        await session.flush()
    return settings


async def _flush_named(session: AsyncSession, station: Station) -> None:
    # The check gives the friendly answer; the unique index settles two admins at once.
    try:
        async with session.begin_nested():
            session.add(station)
    except IntegrityError as exc:
        taken = field_error("name", "taken", name=station.name)
        raise StationNameTaken(details=[taken]) from exc


async def _check_name(session: AsyncSession, name: str, own: uuid.UUID | None) -> None:
    """Names are unique whatever their case. Compared here rather than by SQL lower(),
    which folds only ASCII on SQLite: "Ð" and "ð" must clash on both backends. A canteen
    has a handful of stations, so reading their names costs nothing."""
    wanted = name.casefold()
    for station_id, existing in await session.execute(select(Station.id, Station.name)):
        if station_id != own and existing.casefold() == wanted:
            raise StationNameTaken(details=[field_error("name", "taken", name=name)])
