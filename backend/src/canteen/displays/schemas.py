from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DisplayCreate(BaseModel):
    name: str = Field(min_length=1, max_length=80, description='Where it hangs, e.g. "Counter TV"')


class DisplayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    hint: str = Field(description="The token's first characters")
    created_at: datetime
    revoked_at: datetime | None


class DisplayCreated(DisplayOut):
    token: str = Field(description="Shown this once; only its hash is kept")


class DisplayOrder(BaseModel):
    """All a display may know of an order: no name, phone, items or pickup code."""

    order_id: uuid.UUID
    order_number: str
    status: Literal["confirmed", "preparing", "ready"]


class DisplayBoard(BaseModel):
    last_event_id: int = Field(ge=0, description="Open the display stream from here")
    preparing: list[DisplayOrder]
    ready: list[DisplayOrder]
