"""The printer settings (admins): print a kitchen ticket on confirm, and where."""

from __future__ import annotations

from fastapi import APIRouter

from canteen.auth.deps import Admin
from canteen.core.deps import Session
from canteen.core.responses import Envelope
from canteen.printing import service
from canteen.printing.schemas import PrinterSettingsOut, PrinterSettingsUpdate

router = APIRouter(tags=["admin"])


@router.get("/admin/printing", response_model=Envelope[PrinterSettingsOut])
async def printer_settings(_: Admin, db: Session) -> Envelope[PrinterSettingsOut]:
    row = await service.get_printer_settings(db)
    return Envelope(data=PrinterSettingsOut.model_validate(row))


@router.patch("/admin/printing", response_model=Envelope[PrinterSettingsOut])
async def update_printer_settings(
    body: PrinterSettingsUpdate, _: Admin, db: Session
) -> Envelope[PrinterSettingsOut]:
    """Switch printing on confirm on or off, or move the printer (host, port 9100 by
    default); switching on needs a host."""
    row = await service.update_printer_settings(db, body)
    return Envelope(data=PrinterSettingsOut.model_validate(row))
