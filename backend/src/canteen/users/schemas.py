from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from canteen.core.strict import Bool
from canteen.users.models import Role


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    phone: str
    name: str | None
    email: str | None
    role: Role
    is_active: bool
    created_at: datetime


class UserUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# The column's size (users.models.DeviceToken.token): a longer token was a 500 on PostgreSQL
# (found by schemathesis). FCM tokens are about 160 characters.
DEVICE_TOKEN_MAX = 512


class DeviceTokenIn(BaseModel):
    token: str = Field(min_length=8, max_length=DEVICE_TOKEN_MAX)
    platform: Literal["android", "ios", "web"]


class DeviceTokenDelete(BaseModel):
    token: str = Field(min_length=8, max_length=DEVICE_TOKEN_MAX)


class DeviceTokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    token: str
    platform: str
    updated_at: datetime


StaffRole = Literal["kitchen", "admin", "delivery"]


class StaffCreate(BaseModel):
    phone: str = Field(min_length=4, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    role: StaffRole
    password: str = Field(min_length=8, max_length=256)


class StaffUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    role: StaffRole | None = None
    is_active: Bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)
