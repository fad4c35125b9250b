"""Stations as the API shows and takes them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from canteen.core.strict import Bool, HostName, JsonInt

StationName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
SortOrder = Annotated[int, Field(ge=0, le=1_000_000), JsonInt]
PrinterHost = Annotated[
    HostName | None,
    Field(
        description="The station's own ESC/POS printer; null: the canteen's printer "
        "(PATCH /admin/printing) prints its tickets",
    ),
]
PrinterPort = Annotated[
    Annotated[int, Field(ge=1, le=65535), JsonInt] | None,
    Field(description="Its port; null: 9100"),
]


class StationOut(BaseModel):
    id: uuid.UUID
    name: str
    sort_order: int
    printer_host: str | None = Field(description="Null: the canteen's printer prints its tickets")
    printer_port: int | None
    item_ids: list[uuid.UUID] = Field(description="The menu items this station makes")


class FloorOut(BaseModel):
    stations: list[StationOut] = Field(description="Empty: the canteen has no stations")
    auto_ready: bool = Field(description="An order whose every line is done turns ready by itself")


class StationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: StationName
    sort_order: SortOrder = 0
    printer_host: PrinterHost = None
    printer_port: PrinterPort = None


class StationUpdate(BaseModel):
    """Absent: unchanged. The printer's host and port may be set back to null."""

    model_config = ConfigDict(extra="forbid")
    name: StationName | None = None
    sort_order: SortOrder | None = None
    printer_host: PrinterHost = None
    printer_port: PrinterPort = None


class FloorSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    auto_ready: Bool


class ItemStation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station_id: uuid.UUID | None = Field(description="null: the dish has no station")


class LineMarkOut(BaseModel):
    order_id: uuid.UUID
    position: int
    done_at: datetime


class OrderMarksOut(BaseModel):
    order_id: uuid.UUID
    status: str = Field(description="The order's status after the mark (ready if it turned)")
    done: list[int] = Field(description="Positions of the lines marked done")
    all_done: bool = Field(description="Every line of the order is done")
