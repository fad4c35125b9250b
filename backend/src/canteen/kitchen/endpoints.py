"""The kitchen's windows for the app (public) and the capacity setting (admin)."""

from __future__ import annotations

import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from canteen.auth.deps import Admin, KitchenStaff
from canteen.core.deps import ContainerDep, Session
from canteen.core.responses import Envelope
from canteen.kitchen import service
from canteen.kitchen.schemas import CapacityOut, CapacityUpdate, WindowsOut

router = APIRouter(tags=["kitchen"])

# More portions than any order may hold (orders cap lines and quantities well below this).
MAX_CART_PORTIONS = 200


@router.get("/menu/windows", response_model=Envelope[WindowsOut])
async def windows(
    c: ContainerDep,
    db: Session,
    time_slot: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=32,
            description="A slot code; default: the slot being served now, else the next to open",
        ),
    ] = None,
    item: Annotated[
        list[uuid.UUID] | None,
        Query(
            max_length=MAX_CART_PORTIONS,
            description="The cart: a menu item id per portion (repeat it for two). Windows "
            "are then those the cart fits in, with the cart's own ready time; dishes not "
            "on the menu are left out",
        ),
    ] = None,
) -> Envelope[WindowsOut]:
    """The slot's upcoming 15-minute windows with room and when an order would be ready
    there, and whether the kitchen is busy (the app's "Kitchen busy: ready around …")."""
    data = await service.windows(
        db, time_slot, now=c.clock.now(), tz=ZoneInfo(c.settings.timezone), cart=item
    )
    return Envelope(data=data)


@router.get("/admin/kitchen/capacity", response_model=Envelope[CapacityOut])
async def get_capacity(_: KitchenStaff, db: Session) -> Envelope[CapacityOut]:
    """Kitchen minutes per 15-minute window, per slot."""
    return Envelope(data=await service.capacity_settings(db))


@router.put("/admin/kitchen/capacity", response_model=Envelope[CapacityOut])
async def set_capacity(body: CapacityUpdate, admin: Admin, db: Session) -> Envelope[CapacityOut]:
    return Envelope(data=await service.set_capacity(db, body, actor_id=admin.id))
