"""Menu changes the kitchen makes from the board (kitchen staff and admins)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from canteen.auth.deps import KitchenStaff
from canteen.core.deps import Session
from canteen.core.responses import Envelope
from canteen.menu.kitchen_stock import StockUpdate, set_stock_left
from canteen.menu.schemas import MenuItemOut

router = APIRouter(prefix="/admin", tags=["menu-admin"])


@router.patch("/menu/items/{item_id}/stock", response_model=Envelope[MenuItemOut])
async def set_stock(
    item_id: uuid.UUID, body: StockUpdate, staff: KitchenStaff, db: Session
) -> Envelope[MenuItemOut]:
    """How many portions are left today (0 = sold out; null = no count today)."""
    item = await set_stock_left(db, item_id, body.stock_remaining, actor_id=staff.id)
    return Envelope(data=MenuItemOut.of(item))
