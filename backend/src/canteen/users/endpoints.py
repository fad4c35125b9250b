from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from canteen.core.deps import ContainerDep, Session
from canteen.core.pagination import Page
from canteen.core.responses import Envelope, ListEnvelope, PageMeta
from canteen.users import service
from canteen.users.deps import Admin, CurrentUser, KitchenStaff
from canteen.users.schemas import (
    DeviceTokenDelete,
    DeviceTokenIn,
    DeviceTokenOut,
    StaffCreate,
    StaffUpdate,
    UserOut,
    UserUpdate,
)

router = APIRouter(tags=["users"])


@router.get("/users/me", response_model=Envelope[UserOut])
async def me(user: CurrentUser) -> Envelope[UserOut]:
    return Envelope(data=UserOut.model_validate(user))


@router.patch("/users/me", response_model=Envelope[UserOut])
async def update_me(body: UserUpdate, user: CurrentUser, db: Session) -> Envelope[UserOut]:
    return Envelope(data=UserOut.model_validate(await service.update_profile(db, user, body)))


@router.post("/users/device-token", response_model=Envelope[DeviceTokenOut])
async def register_device_token(
    body: DeviceTokenIn, user: CurrentUser, db: Session
) -> Envelope[DeviceTokenOut]:
    row = await service.upsert_device_token(db, user, body)
    return Envelope(data=DeviceTokenOut.model_validate(row))


@router.delete("/users/device-token", status_code=status.HTTP_204_NO_CONTENT)
async def delete_device_token(body: DeviceTokenDelete, user: CurrentUser, db: Session) -> None:
    await service.delete_device_token(db, user, body.token)


@router.get("/admin/staff", response_model=ListEnvelope[UserOut], tags=["admin"])
async def list_staff(_: Admin, db: Session, page: Page) -> ListEnvelope[UserOut]:
    rows, total = await service.list_staff(db, page)
    return ListEnvelope(
        data=[UserOut.model_validate(u) for u in rows],
        meta=PageMeta(page=page.page, per_page=page.per_page, total=total),
    )


@router.get("/admin/delivery-staff", response_model=Envelope[list[UserOut]], tags=["kitchen"])
async def delivery_staff(_: KitchenStaff, db: Session) -> Envelope[list[UserOut]]:
    """Who the kitchen can assign a delivery order to (active delivery accounts)."""
    rows = await service.active_delivery_staff(db)
    return Envelope(data=[UserOut.model_validate(u) for u in rows])


@router.post("/admin/staff", response_model=Envelope[UserOut], status_code=201, tags=["admin"])
async def create_staff(
    body: StaffCreate, _: Admin, db: Session, c: ContainerDep
) -> Envelope[UserOut]:
    user = await service.create_staff(db, body, c.settings.phone_region)
    return Envelope(data=UserOut.model_validate(user))


@router.patch("/admin/staff/{staff_id}", response_model=Envelope[UserOut], tags=["admin"])
async def update_staff(
    staff_id: uuid.UUID, body: StaffUpdate, admin: Admin, db: Session
) -> Envelope[UserOut]:
    user = await service.update_staff(db, admin, staff_id, body)
    return Envelope(data=UserOut.model_validate(user))
