"""The kitchen's time (issue 16): each slot's capacity, the used minutes of each 15-minute
window, and the measured stage times per dish that the ready-time estimate uses."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from canteen.core.db import Base, UTCDateTime


class SlotCapacity(Base):
    """Kitchen minutes per 15-minute window for one slot; a slot without a row uses the
    default derived from the active kitchen staff (capacity.default_minutes)."""

    __tablename__ = "kitchen_slot_capacity"
    __table_args__ = (CheckConstraint("minutes_per_window > 0", name="positive"),)

    slot_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    minutes_per_window: Mapped[int] = mapped_column(Integer)


class KitchenWindow(Base):
    """One window's used minutes: the atomic reservation and the queue's running figure
    (one conditional upsert per placement, no sum over the queue)."""

    __tablename__ = "kitchen_windows"
    __table_args__ = (CheckConstraint("used_minutes >= 0", name="not_negative"),)

    slot_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    used_minutes: Mapped[int] = mapped_column(Integer, default=0)


class ItemTiming(Base):
    """Recent averages (exponentially weighted) of the orders holding this dish: seconds
    from confirmed to preparing (waiting) and from preparing to ready (cooking)."""

    __tablename__ = "kitchen_item_timings"

    menu_item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    wait_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    cook_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    samples: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
