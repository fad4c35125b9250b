"""Development-only helpers; the router is not mounted in production (so 404 there)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from canteen.core.deps import Session
from canteen.core.responses import Envelope
from canteen.dev import service
from canteen.dev.schemas import OutboxMessageOut

router = APIRouter(prefix="/dev", tags=["dev"])


@router.get("/outbox", response_model=Envelope[list[OutboxMessageOut]])
async def outbox(
    db: Session,
    channel: str | None = Query(default=None, pattern="^(sms|push)$"),
    to: str | None = Query(default=None, max_length=4096),
    limit: int = Query(default=50, ge=1, le=500),
) -> Envelope[list[OutboxMessageOut]]:
    rows = await service.outbox_messages(db, channel=channel, to=to, limit=limit)
    return Envelope(data=[OutboxMessageOut.model_validate(r) for r in rows])
