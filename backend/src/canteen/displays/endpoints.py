"""Admin CRUD of display tokens, and the display's snapshot of the board.

The display's live stream is a filter of the kitchen stream: canteen.realtime.display_stream.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from canteen.auth.deps import Admin
from canteen.core.deps import Session
from canteen.core.responses import Envelope
from canteen.displays import service
from canteen.displays.deps import CurrentDisplay
from canteen.displays.schemas import DisplayBoard, DisplayCreate, DisplayCreated, DisplayOut

router = APIRouter(tags=["displays"])


@router.post(
    "/admin/displays", response_model=Envelope[DisplayCreated], status_code=201, tags=["admin"]
)
async def create_display(
    body: DisplayCreate, admin: Admin, db: Session
) -> Envelope[DisplayCreated]:
    """A new display token, shown in this answer only."""
    display, token = await service.create_display(db, body, actor_id=admin.id)
    return Envelope(
        data=DisplayCreated(**DisplayOut.model_validate(display).model_dump(), token=token)
    )


@router.get("/admin/displays", response_model=Envelope[list[DisplayOut]], tags=["admin"])
async def list_displays(_: Admin, db: Session) -> Envelope[list[DisplayOut]]:
    return Envelope(data=[DisplayOut.model_validate(d) for d in await service.list_displays(db)])


@router.post(
    "/admin/displays/{display_id}/revoke", response_model=Envelope[DisplayOut], tags=["admin"]
)
async def revoke_display(display_id: uuid.UUID, _: Admin, db: Session) -> Envelope[DisplayOut]:
    """Revoke a display token; its open stream ends within seconds."""
    return Envelope(data=DisplayOut.model_validate(await service.revoke_display(db, display_id)))


@router.get("/display/orders", response_model=Envelope[DisplayBoard])
async def display_board(_: CurrentDisplay, db: Session) -> Envelope[DisplayBoard]:
    """Order numbers preparing and ready (no names, phones, items or codes), and the
    position to open `/display/stream` from."""
    return Envelope(data=await service.board(db))
