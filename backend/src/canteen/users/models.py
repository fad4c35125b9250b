from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from canteen.core.db import Base, IdMixin, TimestampMixin, UTCDateTime


class Role(StrEnum):
    customer = "customer"
    kitchen = "kitchen"
    admin = "admin"
    delivery = "delivery"


STAFF_ROLES = (Role.kitchen, Role.admin, Role.delivery)


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16), default=Role.customer, index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Ready pickup orders never collected (issue 16), counted with the transition so that
    # placement reads it off the user it already has.
    no_show_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DeviceToken(IdMixin, TimestampMixin, Base):
    """A push token; one row per token, moved to whoever registered it last."""

    __tablename__ = "device_tokens"
    __table_args__ = (UniqueConstraint("token"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(512))
    platform: Mapped[str] = mapped_column(String(16))
