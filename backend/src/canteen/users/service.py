"""Profiles, push device tokens and staff accounts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.db import utcnow
from canteen.core.direct import Loaded, WholeRowInsert
from canteen.core.errors import NotFound, field_error
from canteen.core.pagination import PageParams
from canteen.core.phones import normalise_phone
from canteen.core.security import hash_password_async
from canteen.users.errors import CannotChangeOwnAccount, PhoneTaken
from canteen.users.models import STAFF_ROLES, DeviceToken, Role, User
from canteen.users.schemas import DeviceTokenIn, StaffCreate, StaffUpdate, UserUpdate

# A student's first sign-in writes their account and nothing else: every column given, sent
# straight to the driver, and outside a transaction when it is the request's first write
# (no BEGIN, no COMMIT). The ORM's flush of the same row in a transaction cost 1.1 ms of
# the API's CPU against 0.47 (issue 20; one per student in the lunch rush).
_USERS: Table = User.__table__  # type: ignore[assignment]
_INSERT_ACCOUNT = WholeRowInsert(_USERS, in_transaction=False)
_LOADED_ACCOUNT = Loaded.of_table(User)


async def add_customer(session: AsyncSession, phone: str, *, signed_in_at: datetime) -> User:
    """A new student's account, signed in now; the session's `User` as if loaded. On
    PostgreSQL the row is committed as it is written: a sign-in that then fails (the token
    store down) leaves the account, which the next sign-in finds as a returning one."""
    stamped = utcnow()
    row = _INSERT_ACCOUNT.row(
        id=uuid.uuid4(),
        phone=phone,
        role=Role.customer,
        is_active=True,
        no_show_count=0,
        last_login_at=signed_in_at,
        created_at=stamped,
        updated_at=stamped,
    )
    return await _INSERT_ACCOUNT.add(session, row, _LOADED_ACCOUNT)


async def update_profile(session: AsyncSession, user: User, changes: UserUpdate) -> User:
    for field, value in changes.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    await session.flush()
    return user


async def upsert_device_token(
    session: AsyncSession, user: User, body: DeviceTokenIn
) -> DeviceToken:
    """A token belongs to one device; if another account registered it, it moves here."""
    row = await session.scalar(
        select(DeviceToken).where(DeviceToken.token == body.token).with_for_update()
    )
    if row is None:
        row = DeviceToken(user_id=user.id, token=body.token, platform=body.platform)
        session.add(row)
    else:
        row.user_id = user.id
        row.platform = body.platform
    await session.flush()
    return row


async def delete_device_token(session: AsyncSession, user: User, token: str) -> bool:
    result = await session.execute(
        delete(DeviceToken).where(DeviceToken.user_id == user.id, DeviceToken.token == token)
    )
    return bool(getattr(result, "rowcount", 0))


async def list_staff(session: AsyncSession, page: PageParams) -> tuple[list[User], int]:
    where = User.role.in_([r.value for r in STAFF_ROLES])
    total = await session.scalar(select(func.count()).select_from(User).where(where)) or 0
    rows = await session.scalars(
        select(User)
        .where(where)
        .order_by(User.created_at, User.id)
        .offset(page.offset)
        .limit(page.per_page)
    )
    return list(rows), total


async def active_delivery_staff(session: AsyncSession) -> list[User]:
    rows = await session.scalars(
        select(User)
        .where(User.role == Role.delivery, User.is_active.is_(True))
        .order_by(User.name, User.phone)
    )
    return list(rows)


async def create_staff(session: AsyncSession, body: StaffCreate, region: str) -> User:
    phone = normalise_phone(body.phone, region)
    existing = await session.scalar(select(User).where(User.phone == phone))
    if existing is not None:
        raise PhoneTaken(details=[field_error("phone", "taken", user_id=str(existing.id))])
    user = User(
        phone=phone,
        name=body.name,
        role=body.role,
        password_hash=await hash_password_async(body.password),
        is_active=True,
    )
    session.add(user)
    await session.flush()
    return user


async def update_staff(
    session: AsyncSession, acting: User, staff_id: uuid.UUID, body: StaffUpdate
) -> User:
    user = await session.get(User, staff_id, with_for_update=True)
    if user is None or user.role == Role.customer:
        raise NotFound("No staff member with this id")
    changes = body.model_dump(exclude_unset=True)
    if user.id == acting.id and (
        changes.get("is_active") is False or changes.get("role", Role.admin) != Role.admin
    ):
        raise CannotChangeOwnAccount()
    if "password" in changes:
        password = changes.pop("password")
        if password is not None:
            user.password_hash = await hash_password_async(password)
    for field, value in changes.items():
        if value is not None:
            setattr(user, field, value)
    await session.flush()
    return user


async def create_admin(session: AsyncSession, phone: str, password: str, name: str) -> User:
    """CLI bootstrap: create the first admin, or reset an existing account to admin."""
    user = await session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(phone=phone)
        session.add(user)
    user.name = name
    user.role = Role.admin
    user.is_active = True
    user.password_hash = await hash_password_async(password)
    await session.flush()
    return user
