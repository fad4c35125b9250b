"""What the development SMS and push providers recorded instead of sending."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.dev.models import DevOutboxMessage


async def outbox_messages(
    session: AsyncSession, *, channel: str | None, to: str | None, limit: int
) -> list[DevOutboxMessage]:
    """Newest first, optionally only one channel (sms, push) or one recipient."""
    query = select(DevOutboxMessage).order_by(
        DevOutboxMessage.created_at.desc(), DevOutboxMessage.id.desc()
    )
    if channel:
        query = query.where(DevOutboxMessage.channel == channel)
    if to:
        query = query.where(DevOutboxMessage.to == to)
    return list(await session.scalars(query.limit(limit)))
