from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from canteen.core.db import unit_of_work, utcnow
from canteen.core.jobs import RetryableJobError, job
from canteen.payments import expiry, refunds, webhooks
from canteen.payments.gateway import GatewayError
from canteen.payments.models import WebhookEvent

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.payments")


# A stored webhook still unapplied this long after it arrived is applied by the sweep.
WEBHOOK_GRACE_SECONDS = 60.0
# A refund owed (or recorded but not sent) this long is asked for again by the sweep.
REFUND_GRACE_SECONDS = 60.0


@job("payments.process_webhook", max_retries=8)
async def process_webhook(c: Container, *, event_id: str) -> None:
    """Apply one stored webhook, exactly once however many runs race: the event row is
    locked and its `processed_at` is set in the transaction that applies the effect, so a
    second run (a redelivered job, the sweep, a gateway retry) finds it applied. Each
    effect is itself idempotent too (captured wins, refunds move forward only)."""
    async with unit_of_work(c.sessionmaker) as session:
        row = await session.get(
            WebhookEvent, event_id, with_for_update=True, populate_existing=True
        )
        if row is None or row.processed_at is not None:
            return
        outcome = await webhooks.apply(c, session, row)
        row.processed_at = utcnow()
        row.outcome = outcome[:200]


@job("payments.refund_order", max_retries=8)
async def refund_order(c: Container, *, order_id: str, reason: str) -> None:
    async with unit_of_work(c.sessionmaker) as session:
        refund = await refunds.refund_order(session, uuid.UUID(order_id), reason)
        refund_id = refund.id if refund is not None else None
    if refund_id is None:
        return
    try:
        async with unit_of_work(c.sessionmaker) as session:
            await refunds.send_refund(c, session, refund_id)
    except GatewayError as exc:
        if exc.retryable:
            raise RetryableJobError(str(exc)) from exc
        async with unit_of_work(c.sessionmaker) as session:
            await refunds.refund_update_failed(session, refund_id, str(exc))


@job("payments.expire_unpaid", max_retries=0)
async def expire_unpaid(c: Container) -> None:
    """Cancel UPI orders left unpaid past their deadline, after asking the gateway whether
    the money arrived after all (then the order is confirmed instead).

    The gateway is asked outside any transaction and each order is settled in its own:
    a sweep of many orders never holds a lock (nor the event log) over a network call."""
    async with unit_of_work(c.sessionmaker) as session:
        candidates = await expiry.unpaid_past_deadline(c, session)
    for order_id, gateway_order_id in candidates:
        captured: str | None = None
        if gateway_order_id:
            try:
                captured = await expiry.captured_at_gateway(c, gateway_order_id)
            except GatewayError as exc:
                log.warning("could not reconcile %s: %s", gateway_order_id, exc)
                continue  # never cancel an order whose payment we could not check
        async with unit_of_work(c.sessionmaker) as session:
            await expiry.expire_unpaid_order(c, session, order_id, gateway_order_id, captured)


async def queue_webhook(c: Container, event_id: str) -> None:
    """Queue a stored webhook's job; if the queue is unreachable (Redis down), apply it
    here instead. Should that fail too, the event stays stored and unapplied, and the
    gateway's retry or the sweep applies it: the webhook is answered 200 either way,
    because it is safely stored."""
    try:
        await c.jobs.enqueue("payments.process_webhook", event_id=event_id)
        return
    except Exception as exc:
        log.warning("could not queue webhook %s (%s); applying it now", event_id, exc)
    try:
        await process_webhook(c, event_id=event_id)
    except Exception:
        log.exception("webhook %s stays stored for the sweep", event_id)


@job("payments.apply_stored_webhooks", max_retries=0)
async def apply_stored_webhooks(c: Container) -> None:
    """Sweep: apply stored webhooks whose job was lost (queue down, Redis restarted
    without persistence, a crash between commit and queueing). Each is applied by
    process_webhook, which locks the event row, so racing sweeps apply it once."""
    async with unit_of_work(c.sessionmaker) as session:
        ids = await webhooks.unapplied_webhooks(c, session, older_than=WEBHOOK_GRACE_SECONDS)
    for event_id in ids:
        try:
            await process_webhook(c, event_id=event_id)
        except Exception:
            log.exception("stored webhook %s could not be applied; next sweep", event_id)


@job("payments.redrive_refunds", max_retries=0)
async def redrive_refunds(c: Container) -> None:
    """Sweep: refunds owed whose `payments.refund_order` job never ran to the gateway
    (lost with Redis, or the event that asks for it was dispatched into a queue that then
    lost it). refund_order is idempotent (one refund row per payment, and the gateway
    de-duplicates by X-Refund-Idempotency), so a re-drive never refunds twice."""
    async with unit_of_work(c.sessionmaker) as session:
        owed = await refunds.refunds_to_redrive(c, session, older_than=REFUND_GRACE_SECONDS)
    for order_id, reason in owed:
        try:
            await refund_order(c, order_id=str(order_id), reason=reason)
        except Exception:
            log.exception("refund of order %s not sent; next sweep", order_id)
