"""Kitchen stations (issue 17, part 3): the admin defines them and gives each dish one; the
kitchen reads them for its station view and marks lines done."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.auth.deps import Admin, KitchenStaff
from canteen.core.container import Container
from canteen.core.deps import ContainerDep, Session
from canteen.core.responses import Envelope
from canteen.menu.schemas import MenuItemOut
from canteen.orders.state import Actor
from canteen.stations import service
from canteen.stations.schemas import (
    FloorOut,
    FloorSettingsUpdate,
    ItemStation,
    LineMarkOut,
    OrderMarksOut,
    StationCreate,
    StationOut,
    StationUpdate,
)
from canteen.users.models import User

router = APIRouter(prefix="/admin", tags=["stations"])

Position = Annotated[int, Path(ge=0, le=500, description="The line's position in the order")]


@router.get("/stations", response_model=Envelope[FloorOut])
async def list_stations(_: KitchenStaff, db: Session) -> Envelope[FloorOut]:
    """The stations with their dishes, and whether all-done orders turn ready by themselves."""
    return Envelope(data=await service.floor(db))


@router.patch("/stations/settings", response_model=Envelope[FloorOut])
async def update_floor_settings(
    body: FloorSettingsUpdate, _: Admin, db: Session
) -> Envelope[FloorOut]:
    return Envelope(data=await service.set_auto_ready(db, body.auto_ready))


@router.post("/stations", response_model=Envelope[StationOut], status_code=201)
async def create_station(body: StationCreate, _: Admin, db: Session) -> Envelope[StationOut]:
    station = await service.create_station(db, body)
    return Envelope(
        data=StationOut(
            id=station.id,
            name=station.name,
            sort_order=station.sort_order,
            printer_host=station.printer_host,
            printer_port=station.printer_port,
            item_ids=[],
        )
    )


@router.patch("/stations/{station_id:uuid}", response_model=Envelope[StationOut])
async def update_station(
    station_id: uuid.UUID, body: StationUpdate, _: Admin, db: Session
) -> Envelope[StationOut]:
    await service.update_station(db, station_id, body)
    floor = await service.floor(db)
    return Envelope(data=next(s for s in floor.stations if s.id == station_id))


@router.delete("/stations/{station_id:uuid}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_station(station_id: uuid.UUID, _: Admin, db: Session) -> None:
    """Its dishes stay on the menu with no station."""
    await service.delete_station(db, station_id)


@router.put("/menu/items/{item_id}/station", response_model=Envelope[MenuItemOut])
async def set_item_station(
    item_id: uuid.UUID, body: ItemStation, admin: Admin, db: Session
) -> Envelope[MenuItemOut]:
    item = await service.set_item_station(db, item_id, body.station_id, actor_id=admin.id)
    return Envelope(data=MenuItemOut.of(item))


@router.get("/stations/marks", response_model=Envelope[list[LineMarkOut]])
async def line_marks(_: KitchenStaff, db: Session) -> Envelope[list[LineMarkOut]]:
    """The lines marked done, of every active order."""
    marks = await service.active_marks(db)
    return Envelope(
        data=[
            LineMarkOut(order_id=m.order_id, position=m.position, done_at=m.done_at) for m in marks
        ]
    )


@router.put("/orders/{order_id}/lines/{position}/done", response_model=Envelope[OrderMarksOut])
async def mark_done(
    order_id: uuid.UUID, position: Position, staff: KitchenStaff, db: Session, c: ContainerDep
) -> Envelope[OrderMarksOut]:
    """Mark one line done (idempotent); every line done can turn the order ready."""
    return Envelope(data=await _mark(db, c, order_id, position, staff, done=True))


@router.delete("/orders/{order_id}/lines/{position}/done", response_model=Envelope[OrderMarksOut])
async def mark_undone(
    order_id: uuid.UUID, position: Position, staff: KitchenStaff, db: Session, c: ContainerDep
) -> Envelope[OrderMarksOut]:
    return Envelope(data=await _mark(db, c, order_id, position, staff, done=False))


async def _mark(
    db: AsyncSession,
    c: Container,
    order_id: uuid.UUID,
    position: int,
    staff: User,
    *,
    done: bool,
) -> OrderMarksOut:
    return await service.mark_line(
        db,
        order_id,
        position,
        done=done,
        actor=Actor(staff.role),
        actor_id=staff.id,
        now=c.clock.now(),
    )
