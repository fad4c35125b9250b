"""Menu, time slot and settings administration (admin; availability also kitchen)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from canteen.auth.deps import Admin, KitchenStaff
from canteen.core.deps import ContainerDep, Session
from canteen.core.responses import Envelope, ListEnvelope, PageMeta
from canteen.menu import service
from canteen.menu.schemas import (
    AvailabilityUpdate,
    CategoryCreate,
    CategoryOut,
    CategoryUpdate,
    ConfigOut,
    ConfigUpdate,
    MenuItemCreate,
    MenuItemOut,
    MenuItemUpdate,
    StockReset,
    TimeSlotCreate,
    TimeSlotOut,
    TimeSlotUpdate,
)
from canteen.menu.uploads import OPENAPI_BODY, receive_item_image

router = APIRouter(prefix="/admin", tags=["menu-admin"])


# ---- categories ----------------------------------------------------------------------


@router.get("/menu/categories", response_model=Envelope[list[CategoryOut]])
async def admin_list_categories(_: Admin, db: Session) -> Envelope[list[CategoryOut]]:
    """Every category, inactive ones included."""
    rows = await service.list_categories(db)
    return Envelope(data=[CategoryOut.model_validate(c) for c in rows])


@router.post("/menu/categories", response_model=Envelope[CategoryOut], status_code=201)
async def create_category(body: CategoryCreate, admin: Admin, db: Session) -> Envelope[CategoryOut]:
    category = await service.create_category(db, body, actor_id=admin.id)
    return Envelope(data=CategoryOut.model_validate(category))


@router.patch("/menu/categories/{category_id}", response_model=Envelope[CategoryOut])
async def update_category(
    category_id: uuid.UUID, body: CategoryUpdate, admin: Admin, db: Session
) -> Envelope[CategoryOut]:
    category = await service.update_category(db, category_id, body, actor_id=admin.id)
    return Envelope(data=CategoryOut.model_validate(category))


@router.delete("/menu/categories/{category_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_category(category_id: uuid.UUID, admin: Admin, db: Session) -> None:
    await service.delete_category(db, category_id, actor_id=admin.id)


# ---- items ---------------------------------------------------------------------------


@router.get("/menu/items", response_model=ListEnvelope[MenuItemOut])
async def admin_list_items(
    _: Admin,
    db: Session,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 500,
) -> ListEnvelope[MenuItemOut]:
    """Every item, including those in inactive categories."""
    rows, total = await service.list_items(db, offset=(page - 1) * per_page, limit=per_page)
    return ListEnvelope(
        data=[MenuItemOut.of(i) for i in rows],
        meta=PageMeta(page=page, per_page=per_page, total=total),
    )


@router.get("/menu/items/{item_id}", response_model=Envelope[MenuItemOut])
async def admin_get_item(item_id: uuid.UUID, _: Admin, db: Session) -> Envelope[MenuItemOut]:
    return Envelope(data=MenuItemOut.of(await service.get_item(db, item_id)))


@router.post("/menu/items", response_model=Envelope[MenuItemOut], status_code=201)
async def create_item(body: MenuItemCreate, admin: Admin, db: Session) -> Envelope[MenuItemOut]:
    item = await service.create_item(db, body, actor_id=admin.id)
    return Envelope(data=MenuItemOut.of(item))


@router.patch("/menu/items/{item_id}", response_model=Envelope[MenuItemOut])
async def update_item(
    item_id: uuid.UUID, body: MenuItemUpdate, admin: Admin, db: Session
) -> Envelope[MenuItemOut]:
    item = await service.update_item(db, item_id, body, actor_id=admin.id)
    return Envelope(data=MenuItemOut.of(item))


@router.delete("/menu/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_item(item_id: uuid.UUID, admin: Admin, db: Session, c: ContainerDep) -> None:
    await service.delete_item(db, c.storage, item_id, actor_id=admin.id)


@router.patch("/menu/items/{item_id}/availability", response_model=Envelope[MenuItemOut])
async def set_availability(
    item_id: uuid.UUID, body: AvailabilityUpdate, staff: KitchenStaff, db: Session
) -> Envelope[MenuItemOut]:
    """The kitchen's "86" switch (kitchen staff and admins)."""
    item = await service.set_availability(db, item_id, body.is_available, actor_id=staff.id)
    return Envelope(data=MenuItemOut.of(item))


@router.patch(
    "/menu/items/{item_id}/options/{option_id}/availability",
    response_model=Envelope[MenuItemOut],
)
async def set_option_availability(
    item_id: uuid.UUID,
    option_id: uuid.UUID,
    body: AvailabilityUpdate,
    staff: KitchenStaff,
    db: Session,
) -> Envelope[MenuItemOut]:
    """Switch one option of a dish on or off (kitchen staff and admins)."""
    item = await service.set_option_availability(
        db, item_id, option_id, body.is_available, actor_id=staff.id
    )
    return Envelope(data=MenuItemOut.of(item))


@router.post(
    "/menu/items/{item_id}/image",
    response_model=Envelope[MenuItemOut],
    openapi_extra=OPENAPI_BODY,
)
async def upload_item_image(
    item_id: uuid.UUID, request: Request, admin: Admin, db: Session, c: ContainerDep
) -> Envelope[MenuItemOut]:
    """Multipart field `file`: JPEG, PNG or WebP (judged by its bytes), ≤ 5 MB, ≤ 4096x4096.
    Stored re-encoded as WebP in a display and a thumbnail size."""
    item = await receive_item_image(db, c.storage, item_id, request, actor_id=admin.id)
    return Envelope(data=MenuItemOut.of(item))


@router.delete("/menu/items/{item_id}/image", response_model=Envelope[MenuItemOut])
async def remove_item_image(
    item_id: uuid.UUID, admin: Admin, db: Session, c: ContainerDep
) -> Envelope[MenuItemOut]:
    item = await service.remove_item_image(db, c.storage, item_id, actor_id=admin.id)
    return Envelope(data=MenuItemOut.of(item))


@router.post("/menu/stock/reset", response_model=Envelope[StockReset])
async def reset_stock(admin: Admin, db: Session) -> Envelope[StockReset]:
    """Refill every item that has a daily count (start of the day)."""
    refilled = await service.reset_daily_stock(db, actor_id=admin.id)
    return Envelope(data=StockReset(items_refilled=refilled))


# ---- time slots ----------------------------------------------------------------------


@router.get("/time-slots", response_model=Envelope[list[TimeSlotOut]])
async def list_time_slots(_: Admin, db: Session) -> Envelope[list[TimeSlotOut]]:
    rows = await service.list_slots(db)
    return Envelope(data=[TimeSlotOut.model_validate(s) for s in rows])


@router.post("/time-slots", response_model=Envelope[TimeSlotOut], status_code=201)
async def create_time_slot(
    body: TimeSlotCreate, admin: Admin, db: Session
) -> Envelope[TimeSlotOut]:
    slot = await service.create_slot(db, body, actor_id=admin.id)
    return Envelope(data=TimeSlotOut.model_validate(slot))


@router.patch("/time-slots/{slot_id}", response_model=Envelope[TimeSlotOut])
async def update_time_slot(
    slot_id: uuid.UUID, body: TimeSlotUpdate, admin: Admin, db: Session
) -> Envelope[TimeSlotOut]:
    slot = await service.update_slot(db, slot_id, body, actor_id=admin.id)
    return Envelope(data=TimeSlotOut.model_validate(slot))


@router.delete("/time-slots/{slot_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_time_slot(slot_id: uuid.UUID, admin: Admin, db: Session) -> None:
    await service.delete_slot(db, slot_id, actor_id=admin.id)


# ---- settings ------------------------------------------------------------------------


@router.get("/config", response_model=Envelope[ConfigOut])
async def get_config(_: Admin, db: Session) -> Envelope[ConfigOut]:
    return Envelope(data=ConfigOut.model_validate(await service.get_config(db)))


@router.patch("/config", response_model=Envelope[ConfigOut])
async def update_config(body: ConfigUpdate, admin: Admin, db: Session) -> Envelope[ConfigOut]:
    config = await service.update_config(db, body, actor_id=admin.id)
    return Envelope(data=ConfigOut.model_validate(config))
