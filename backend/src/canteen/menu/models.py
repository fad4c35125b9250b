"""Menu: categories, items, the time slots they are sold in, and the canteen's settings."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from canteen.core.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


class Diet(StrEnum):
    veg = "veg"
    egg = "egg"
    non_veg = "non_veg"


class Allergen(StrEnum):
    """The fixed allergen list (the common Indian/EU declarations a canteen can vouch for)."""

    gluten = "gluten"
    dairy = "dairy"
    nuts = "nuts"
    peanuts = "peanuts"
    soy = "soy"
    egg = "egg"
    shellfish = "shellfish"
    sesame = "sesame"


menu_item_slots = Table(
    "menu_item_slots",
    Base.metadata,
    Column("item_id", ForeignKey("menu_items.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "slot_id", ForeignKey("time_slots.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Category(IdMixin, TimestampMixin, Base):
    __tablename__ = "menu_categories"

    name: Mapped[str] = mapped_column(String(80))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class TimeSlot(IdMixin, Base):
    """A serving window in the canteen's local time zone; `end_time` is after `start_time`."""

    __tablename__ = "time_slots"
    __table_args__ = (CheckConstraint("end_time > start_time", name="end_after_start"),)

    code: Mapped[str] = mapped_column(String(32), unique=True)
    label: Mapped[str] = mapped_column(String(60))
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class MenuItem(IdMixin, TimestampMixin, Base):
    __tablename__ = "menu_items"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("prep_minutes >= 0", name="prep_minutes_not_negative"),
        CheckConstraint("daily_stock IS NULL OR daily_stock >= 0", name="daily_stock_not_negative"),
    )

    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("menu_categories.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[int] = mapped_column(Integer)  # paise
    diet: Mapped[str] = mapped_column(String(16))
    allergens: Mapped[list[str]] = mapped_column(JSON, default=list)
    image_url: Mapped[str | None] = mapped_column(String(1024))
    thumbnail_url: Mapped[str | None] = mapped_column(String(1024))
    image_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_available: Mapped[bool] = mapped_column(Boolean, default=True)
    prep_minutes: Mapped[int] = mapped_column(Integer, default=10)
    # The configured count per day (None = unlimited) and what is left of it today.
    daily_stock: Mapped[int | None] = mapped_column(Integer)
    stock_remaining: Mapped[int | None] = mapped_column(Integer)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # The dish's option groups (canteen.menu.options), in the OptionGroupOut JSON shape.
    option_groups: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    # The kitchen station that makes it (canteen.stations); None: no station.
    station_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("stations.id", ondelete="SET NULL"), index=True
    )

    slots: Mapped[list[TimeSlot]] = relationship(
        secondary=menu_item_slots, order_by=(TimeSlot.sort_order, TimeSlot.start_time)
    )

    @property
    def sold_out(self) -> bool:
        return not self.is_available or self.stock_remaining == 0


class CanteenConfig(Base):
    """The canteen's settings: a single row with id 1 (design §10.3).

    `menu_version` is bumped in the same transaction as every change to what the menu
    endpoints show; it is what every API process checks before trusting its menu cache.
    """

    __tablename__ = "canteen_config"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("delivery_fee >= 0", name="delivery_fee_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=1)
    delivery_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cash_payment_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    upi_payment_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    restaurant_open: Mapped[bool] = mapped_column(Boolean, default=True)
    ordering_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_fee: Mapped[int] = mapped_column(Integer, default=2000)  # paise
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    menu_version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped with menu_version by staff edits only (not by orders taking stock): what
    # order placement's per-process catalogue is checked against (canteen.menu.catalogue).
    catalogue_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The most one order may hold: a canteen's guard against a mistaken or malicious
    # 200-plate order that the kitchen cannot make and nobody collects.
    max_items_per_order: Mapped[int] = mapped_column(Integer, default=20, server_default="20")
    max_order_total: Mapped[int] = mapped_column(Integer, default=200000, server_default="200000")
    # Text the student when the order is ready (push and the open app always tell them).
    ready_sms_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # No-shows (issue 16): a ready pickup order left this long becomes not_collected; past
    # `no_show_cash_limit` of them (None: no limit) a customer pays by UPI only.
    collection_window_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    no_show_cash_limit: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
