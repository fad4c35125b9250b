from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from canteen.core.db import unit_of_work, utcnow
from canteen.core.jobs import RetryableJobError, job
from canteen.payments import service
from canteen.payments.gateway import GatewayError
from canteen.payments.models import WebhookEvent

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.payments")


@job("payments.process_webhook", max_retries=8)
async def process_webhook(c: Container, *, event_id: str) -> None:
    """Apply one stored webhook. Safe to run twice: processed events are skipped and each
    effect is itself idempotent (captured wins, refunds move forward only)."""
    async with unit_of_work(c.sessionmaker) as session:
        row = await session.get(WebhookEvent, event_id, with_for_update=True)
        if row is None or row.processed_at is not None:
            return
        gateway_order_id, payment = service.summarise(row.payload)
        if row.event in ("payment.captured", "order.paid"):
            outcome = await service.capture_by_gateway_order(
                c, session, str(gateway_order_id), str(payment.get("id"))
            )
        elif row.event == "payment.failed":
            outcome = await service.fail_by_gateway_order(
                session,
                str(gateway_order_id),
                payment.get("error_code"),
                payment.get("error_description"),
            )
        elif row.event in ("refund.processed", "refund.failed"):
            refund = row.payload.get("payload", {}).get("refund", {}).get("entity", {})
            outcome = await service.refund_update_by_gateway_id(
                session, str(refund.get("id")), row.event.split(".")[1], refund.get("payment_id")
            )
        else:
            outcome = "ignored"  # payment.authorized etc.: auto-capture follows
        row.processed_at = utcnow()
        row.outcome = outcome[:200]


@job("payments.refund_order", max_retries=8)
async def refund_order(c: Container, *, order_id: str, reason: str) -> None:
    async with unit_of_work(c.sessionmaker) as session:
        refund = await service.refund_order(c, session, uuid.UUID(order_id), reason)
        refund_id = refund.id if refund is not None else None
    if refund_id is None:
        return
    try:
        async with unit_of_work(c.sessionmaker) as session:
            await service.send_refund(c, session, refund_id)
    except GatewayError as exc:
        if exc.retryable:
            raise RetryableJobError(str(exc)) from exc
        async with unit_of_work(c.sessionmaker) as session:
            await service.refund_update_failed(session, refund_id, str(exc))


@job("payments.expire_unpaid", max_retries=0)
async def expire_unpaid(c: Container) -> None:
    """Cancel UPI orders left unpaid past their deadline, after asking the gateway whether
    the money arrived after all (then the order is confirmed instead).

    The gateway is asked outside any transaction and each order is settled in its own:
    a sweep of many orders never holds a lock (nor the event log) over a network call."""
    async with unit_of_work(c.sessionmaker) as session:
        candidates = await service.unpaid_past_deadline(c, session)
    for order_id, gateway_order_id in candidates:
        captured: str | None = None
        if gateway_order_id:
            try:
                captured = await service.captured_at_gateway(c, gateway_order_id)
            except GatewayError as exc:
                log.warning("could not reconcile %s: %s", gateway_order_id, exc)
                continue  # never cancel an order whose payment we could not check
        async with unit_of_work(c.sessionmaker) as session:
            await service.expire_unpaid_order(c, session, order_id, gateway_order_id, captured)
