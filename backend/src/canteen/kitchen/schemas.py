"""The kitchen's windows as the app sees them, and the capacity setting."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from canteen.core.strict import JsonInt

WindowMinutes = Annotated[int, Field(ge=1, le=24 * 60, description="Kitchen minutes"), JsonInt]


class WindowOut(BaseModel):
    window: str = Field(description="Its start in canteen time, as POST /orders takes it: 13:15")
    start: datetime
    end: datetime
    room_minutes: int = Field(description="Kitchen minutes still free in the window")
    ready_around: datetime = Field(
        description="When a typical order placed in this window now would be ready"
    )


class WindowsOut(BaseModel):
    time_slot: str
    minutes_per_window: int
    cart_minutes: int | None = Field(
        description="The kitchen minutes the cart takes (null: no cart given); only windows "
        "with that much room are listed"
    )
    kitchen_busy: bool = Field(
        description="The earliest window with room starts later than a typical order could "
        'be ready: show "Kitchen busy: ready around …"'
    )
    ready_around: datetime | None = Field(
        description="The earliest window's ready_around (null: no room left in the slot)"
    )
    windows: list[WindowOut] = Field(description="The slot's upcoming windows with room")


class SlotCapacityOut(BaseModel):
    time_slot: str
    minutes_per_window: int
    is_default: bool = Field(description="True: derived from the active kitchen staff")


class CapacityOut(BaseModel):
    default_minutes_per_window: int = Field(
        description="15 minutes per active kitchen staff member (at least one)"
    )
    slots: list[SlotCapacityOut]


class CapacityUpdate(BaseModel):
    time_slot: str = Field(min_length=1, max_length=32)
    minutes_per_window: WindowMinutes | None = Field(
        description="null: back to the default derived from the staff"
    )
