from __future__ import annotations

import hashlib
import html
import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from canteen.auth.deps import CurrentUser
from canteen.core.db import after_commit
from canteen.core.deps import ContainerDep, Session
from canteen.core.errors import ValidationFailed
from canteen.core.responses import Envelope
from canteen.orders import service as orders
from canteen.orders.schemas import OrderOut
from canteen.payments import service, tasks
from canteen.payments.models import WebhookEvent

router = APIRouter(tags=["payments"])


class VerifyRequest(BaseModel):
    order_id: uuid.UUID
    razorpay_order_id: str = Field(min_length=1, max_length=64)
    razorpay_payment_id: str = Field(min_length=1, max_length=64)
    razorpay_signature: str = Field(min_length=1, max_length=256)


class WebhookAck(BaseModel):
    received: bool
    duplicate: bool


@router.post("/payments/verify", response_model=Envelope[OrderOut])
async def verify_payment(
    body: VerifyRequest, user: CurrentUser, db: Session, c: ContainerDep
) -> Envelope[OrderOut]:
    await orders.get_own_order(db, user, body.order_id)
    order = await service.verify(
        c,
        db,
        body.order_id,
        body.razorpay_order_id,
        body.razorpay_payment_id,
        body.razorpay_signature,
    )
    return Envelope(data=await service.order_view(c, db, order))


@router.post("/orders/{order_id}/payment/retry", response_model=Envelope[OrderOut])
async def retry_payment(
    order_id: uuid.UUID, user: CurrentUser, db: Session, c: ContainerDep
) -> Envelope[OrderOut]:
    await orders.get_own_order(db, user, order_id)
    order = await orders.lock_order(db, order_id)
    await service.retry(c, db, order)
    return Envelope(data=await service.order_view(c, db, order))


@router.post("/orders/{order_id}/payment/switch-to-cash", response_model=Envelope[OrderOut])
async def switch_to_cash(
    order_id: uuid.UUID, user: CurrentUser, db: Session, c: ContainerDep
) -> Envelope[OrderOut]:
    await orders.get_own_order(db, user, order_id)
    order = await orders.lock_order(db, order_id)
    await service.switch_to_cash(c, db, order)
    return Envelope(data=await service.order_view(c, db, order))


@router.post("/payments/webhooks/razorpay", response_model=Envelope[WebhookAck])
async def razorpay_webhook(
    request: Request,
    db: Session,
    c: ContainerDep,
    signature: Annotated[str | None, Header(alias="X-Razorpay-Signature")] = None,
    event_id: Annotated[str | None, Header(alias="x-razorpay-event-id")] = None,
) -> Envelope[WebhookAck]:
    """Verify over the raw bytes, store once by event id, answer at once; a job applies it.

    A redelivery of an event that is stored but not applied yet (its job was lost or could
    not be queued) queues it again; the `payments.apply_stored_webhooks` sweep applies any
    that are still left a minute later."""
    raw = await request.body()
    if not signature or not c.gateway.verify_webhook_signature(raw, signature):
        raise service.PaymentSignatureInvalid(
            "The webhook signature is not valid",
            details=[{"field": "X-Razorpay-Signature", "issue": "mismatch"}],
        )
    try:
        payload = json.loads(raw)
        event = str(payload["event"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed("The webhook body is not a gateway event") from exc
    key = (event_id or "").strip()[:128] or "sha256:" + hashlib.sha256(raw).hexdigest()
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await db.execute(
        insert(WebhookEvent)
        .values(id=key, gateway="razorpay", event=event, payload=payload, received_at=c.clock.now())
        .on_conflict_do_nothing(index_elements=[WebhookEvent.id])
    )
    fresh = bool(getattr(result, "rowcount", 0))
    pending = fresh or await service.webhook_pending(db, key)
    if pending:

        async def process() -> None:
            await tasks.queue_webhook(c, key)

        after_commit(db, process)
    return Envelope(data=WebhookAck(received=True, duplicate=not fresh))


@router.get("/payments/callback", response_class=HTMLResponse, include_in_schema=False)
async def checkout_callback(
    db: Session,
    c: ContainerDep,
    order_id: uuid.UUID,
    razorpay_order_id: str | None = None,
    razorpay_payment_id: str | None = None,
    razorpay_signature: str | None = None,
    status: str | None = None,
    error_description: Annotated[str | None, Query(alias="error[description]")] = None,
) -> HTMLResponse:
    """Where the hosted checkout returns: the signature is checked here too, so a
    customer who closes the app right after paying still gets a confirmed order."""
    if razorpay_order_id and razorpay_payment_id and razorpay_signature:
        order = await service.verify(
            c, db, order_id, razorpay_order_id, razorpay_payment_id, razorpay_signature
        )
        title, text = "Payment received", f"Order {order.number} is confirmed."
    elif status == "pending":
        title, text = "Payment pending", "We will confirm your order as soon as the bank does."
    else:
        title = "Payment failed"
        text = (
            error_description or "The payment did not go through."
        ) + " You can try again or pay by cash from the app."
    page = (
        f"<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport "
        f"content='width=device-width'><title>{html.escape(title)}</title>"
        f"<main style='font-family:sans-serif;max-width:30em;margin:3em auto'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
        f"<p>You can go back to the Canteen app.</p></main></html>"
    )
    return HTMLResponse(page)
