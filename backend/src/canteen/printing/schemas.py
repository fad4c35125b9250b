from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from canteen.core.strict import Bool, HostName, JsonInt


class PrinterSettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    auto_print: bool = Field(description="Print a kitchen ticket when an order is confirmed")
    auto_print_since: datetime | None = Field(
        description="When it was switched on: orders confirmed before are not printed"
    )
    printer_host: str | None = Field(description="The ESC/POS network printer's host")
    printer_port: int


class PrinterSettingsUpdate(BaseModel):
    auto_print: Bool | None = Field(default=None, description="null or absent: unchanged")
    printer_host: HostName | None = Field(
        default=None, description="null: no printer (printing on confirm must then be off)"
    )
    printer_port: Annotated[int, Field(ge=1, le=65535), JsonInt] | None = Field(
        default=None, description="null or absent: unchanged"
    )
