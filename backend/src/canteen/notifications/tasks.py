"""Push jobs, enqueued by the outbox dispatcher.

Delivery is at least once upstream (the dispatcher and both job runners may run a job
again), so each (event, device) pair is claimed in the key-value store before sending:
a re-run only sends to devices that were not reached, and a retry after a transient
failure only re-sends to the devices that failed. A finished job is marked done in the
database, and `push.redrive` re-sends, for ten minutes, any whose job Redis lost.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, exists, select

from canteen.core.db import unit_of_work
from canteen.core.jobs import RetryableJobError, job
from canteen.core.once import JobMark, mark_once
from canteen.events.models import Event
from canteen.events.types import EventType
from canteen.notifications.push import PushContent, PushMessage, PushResult, order_status_message
from canteen.notifications.reactions import PUSH_STATUSES
from canteen.orders.models import Order
from canteen.users.models import DeviceToken

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.push")

CLAIM_TTL_SECONDS = 24 * 3600


def token_fingerprint(token: str) -> str:
    """A short stable id for a device token: claim keys and logs never hold the token."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def claim_key(event_id: str, token: str) -> str:
    return f"push:{event_id}:{token_fingerprint(token)}"


# Pushes whose job was lost are re-sent for this long after their event; later than that
# a status notification is noise (the app shows the live status anyway).
REDRIVE_WINDOW_SECONDS = 600.0
REDRIVE_GRACE_SECONDS = 60.0


def done_key(event_id: str) -> str:
    return f"push:{event_id}"


@job("push.order_status", max_retries=5)
async def push_order_status(
    c: Container, *, event_id: str, order_id: str, order_number: str, status: str
) -> None:
    """Notify the customer's devices of one status event. Marked done in the database
    once every device was handled, so `push.redrive` re-sends it if Redis lost the job."""
    await _push_order_status(
        c, event_id=event_id, order_id=order_id, order_number=order_number, status=status
    )
    async with unit_of_work(c.sessionmaker) as session:
        await mark_once(session, done_key(event_id))


@job("push.redrive", max_retries=0)
async def redrive_pushes(c: Container) -> None:
    """Sweep: status events dispatched in the last ten minutes (and over a minute ago)
    whose push job never finished, because Redis lost it or its worker died, are pushed
    now, to customers who had a device when the event was recorded (the others got no job).
    Safe to overlap with the job itself: devices are claimed per event."""
    now = c.clock.now()
    async with c.sessionmaker() as session:
        events = list(
            (
                await session.execute(
                    select(Event.id, Event.order_id, Event.order_number, Event.status)
                    .where(
                        Event.type == EventType.order_status_changed.value,
                        Event.status.in_(PUSH_STATUSES),
                        Event.order_id.is_not(None),
                        Event.dispatched_at.is_not(None),
                        Event.created_at >= now - timedelta(seconds=REDRIVE_WINDOW_SECONDS),
                        Event.created_at <= now - timedelta(seconds=REDRIVE_GRACE_SECONDS),
                        # As the dispatcher's reaction: no job for a customer who had no
                        # device when the event was recorded (notifications.reactions).
                        exists().where(
                            Order.id == Event.order_id,
                            DeviceToken.user_id == Order.customer_id,
                            DeviceToken.updated_at <= Event.created_at,
                        ),
                    )
                    .order_by(Event.seq)
                    .limit(500)
                )
            ).tuples()
        )
        keys = [done_key(str(event_id)) for event_id, *_ in events]
        done = set(await session.scalars(select(JobMark.key).where(JobMark.key.in_(keys))))
    for event_id, order_id, number, status in events:
        if done_key(str(event_id)) in done:
            continue
        try:
            await push_order_status(
                c,
                event_id=str(event_id),
                order_id=str(order_id),
                order_number=number or "",
                status=str(status),
            )
        except Exception:
            log.warning("push for event %s not sent; next sweep", event_id, exc_info=True)
    async with unit_of_work(c.sessionmaker) as session:
        # Marks outlive the window by a day, then go.
        await session.execute(
            delete(JobMark).where(
                JobMark.key.like("push:%"), JobMark.created_at < now - timedelta(days=1)
            )
        )


async def _push_order_status(
    c: Container, *, event_id: str, order_id: str, order_number: str, status: str
) -> None:
    try:
        order_uuid = uuid.UUID(order_id)
    except ValueError:
        log.error("push.order_status: bad order id %r (event %s)", order_id, event_id)
        return
    async with c.sessionmaker() as session:
        order = await session.get(Order, order_uuid)
        if order is None:
            log.warning("push.order_status: order %s not found (event %s)", order_id, event_id)
            return
        tokens = list(
            await session.scalars(
                select(DeviceToken.token)
                .where(DeviceToken.user_id == order.customer_id)
                .order_by(DeviceToken.created_at, DeviceToken.token)
            )
        )
        order_type = order.order_type
        number = order_number or order.number
    if not tokens:
        return
    try:
        content = order_status_message(number, order_id, status, order_type)
    except ValueError as exc:
        log.warning("push.order_status: nothing to send for event %s: %s", event_id, exc)
        return
    await deliver(c, event_id, tokens, content)


async def deliver(c: Container, claim_id: str, tokens: list[str], content: PushContent) -> None:
    """Send `content` to each device not yet sent it under `claim_id` (an event id, or a
    reminder's key); raises RetryableJobError when some devices failed transiently."""
    title, body, data = content
    # Claim each device; a device claimed earlier was already sent to (or is being sent
    # to by a concurrent run).
    claimed = [
        token
        for token in tokens
        if await c.kv.set(claim_key(claim_id, token), "1", ttl=CLAIM_TTL_SECONDS, nx=True)
    ]
    if not claimed:
        return
    messages = [PushMessage(token=t, title=title, body=body, data=data) for t in claimed]
    try:
        results = await c.push.send_many(messages)
    except BaseException:
        # Nothing is known to have been sent: let the next run try every device again.
        await c.kv.delete(*(claim_key(claim_id, t) for t in claimed))
        raise

    await _forget_invalid_tokens(c, [r for r in results if r.token_invalid])
    failed = [r for r in results if not r.ok and not r.token_invalid]
    for r in failed:
        log.warning(
            "push %s: device %s failed (retryable=%s): %s",
            claim_id,
            token_fingerprint(r.token),
            r.retryable,
            r.error,
        )
    retry = [r for r in failed if r.retryable]
    if retry:
        await c.kv.delete(*(claim_key(claim_id, r.token) for r in retry))
        raise RetryableJobError(
            f"push to {len(retry)} of {len(results)} devices failed transiently: {retry[0].error}"
        )


async def _forget_invalid_tokens(c: Container, results: list[PushResult]) -> None:
    """Delete tokens FCM reported as unregistered or invalid (integrations.md §2)."""
    if not results:
        return
    tokens = sorted({r.token for r in results})
    async with c.sessionmaker() as session, session.begin():
        await session.execute(delete(DeviceToken).where(DeviceToken.token.in_(tokens)))
    log.info(
        "push: deleted %d invalid device token(s): %s",
        len(tokens),
        ", ".join(token_fingerprint(t) for t in tokens),
    )
