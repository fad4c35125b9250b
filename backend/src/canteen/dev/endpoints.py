"""Development-only helpers; the router is not mounted in production (so 404 there)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from canteen.core.deps import Session
from canteen.core.responses import Envelope
from canteen.dev.models import DevOutboxMessage

router = APIRouter(prefix="/dev", tags=["dev"])


class OutboxMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel: str
    to: str
    body: str | None
    payload: dict[str, Any] | None
    created_at: datetime


@router.get("/outbox", response_model=Envelope[list[OutboxMessageOut]])
async def outbox(
    db: Session,
    channel: str | None = Query(default=None, pattern="^(sms|push)$"),
    to: str | None = Query(default=None, max_length=4096),
    limit: int = Query(default=50, ge=1, le=500),
) -> Envelope[list[OutboxMessageOut]]:
    query = select(DevOutboxMessage).order_by(
        DevOutboxMessage.created_at.desc(), DevOutboxMessage.id.desc()
    )
    if channel:
        query = query.where(DevOutboxMessage.channel == channel)
    if to:
        query = query.where(DevOutboxMessage.to == to)
    rows = await db.scalars(query.limit(limit))
    return Envelope(data=[OutboxMessageOut.model_validate(r) for r in rows])
