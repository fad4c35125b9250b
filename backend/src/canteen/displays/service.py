"""Display tokens (create, list, revoke, sign in) and the board a display shows.

A display token is not a user: it opens the display's snapshot and stream and nothing
else. It is an opaque random string, not a JWT, so every other route (which decodes a
JWT) refuses it as INVALID_TOKEN without knowing displays exist.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.db import utcnow
from canteen.core.errors import InvalidToken, NotFound
from canteen.displays.models import DisplayToken
from canteen.displays.schemas import DisplayBoard, DisplayCreate, DisplayOrder
from canteen.events.models import Event
from canteen.orders.models import Order, OrderStatus, OrderType

PREFIX = "disp_"
# What a display shows: paid pickup orders in the kitchen, then ready at the counter.
# Delivery orders are not collected at the counter; unpaid UPI orders are not cooking yet.
PREPARING = (OrderStatus.confirmed, OrderStatus.preparing)
READY = (OrderStatus.ready,)
SHOWN = (*PREPARING, *READY)


class DisplayNotFound(NotFound):
    message = "No display with this id"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def create_display(
    session: AsyncSession, body: DisplayCreate, *, actor_id: uuid.UUID
) -> tuple[DisplayToken, str]:
    """A new display and its token (returned this once; only the hash is stored)."""
    raw = PREFIX + secrets.token_urlsafe(32)
    display = DisplayToken(
        name=body.name.strip() or body.name,
        token_hash=hash_token(raw),
        hint=raw[: len(PREFIX) + 4],
        created_by=actor_id,
        created_at=utcnow(),
    )
    session.add(display)
    await session.flush()
    return display, raw


async def list_displays(session: AsyncSession) -> list[DisplayToken]:
    return list(
        await session.scalars(
            select(DisplayToken).order_by(
                DisplayToken.revoked_at.is_not(None), DisplayToken.created_at
            )
        )
    )


async def revoke_display(session: AsyncSession, display_id: uuid.UUID) -> DisplayToken:
    """Revoke (once: a second revoke keeps the first time). Open streams end within
    seconds (canteen.realtime.display_stream)."""
    display = await session.get(DisplayToken, display_id, with_for_update=True)
    if display is None:
        raise DisplayNotFound()
    if display.revoked_at is None:
        display.revoked_at = utcnow()
        await session.flush()
    return display


async def authenticate_display(session: AsyncSession, raw: str | None) -> DisplayToken:
    """The display a token belongs to; 401 INVALID_TOKEN for anything else."""
    if not raw:
        raise InvalidToken("A display token is required")
    if not raw.startswith(PREFIX) or len(raw) > 128:
        raise InvalidToken("This is not a display token")
    display = await session.scalar(
        select(DisplayToken).where(DisplayToken.token_hash == hash_token(raw))
    )
    if display is None:
        raise InvalidToken("This display token is not valid")
    if display.revoked_at is not None:
        raise InvalidToken("This display token has been revoked")
    return display


async def board(session: AsyncSession) -> DisplayBoard:
    """What the display shows now, and the event log position to stream from."""
    last = int(await session.scalar(select(func.coalesce(func.max(Event.seq), 0))) or 0)
    rows = await session.execute(
        select(Order.id, Order.number, Order.status)
        .where(Order.order_type == OrderType.pickup, Order.status.in_(SHOWN))
        .order_by(func.coalesce(Order.ready_at, Order.created_at), Order.number)
    )
    preparing: list[DisplayOrder] = []
    ready: list[DisplayOrder] = []
    for order_id, number, status in rows:
        entry = DisplayOrder(order_id=order_id, order_number=number, status=status)
        (ready if status in READY else preparing).append(entry)
    return DisplayBoard(last_event_id=last, preparing=preparing, ready=ready)
