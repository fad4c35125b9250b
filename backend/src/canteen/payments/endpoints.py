from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, StringConstraints

from canteen.auth.deps import Admin, CurrentUser
from canteen.core.deps import ContainerDep, Session
from canteen.core.responses import Envelope
from canteen.orders.presenter import customer_order
from canteen.orders.schemas import OrderOut, RefundOut
from canteen.payments import callback, capture, checkout, manual_refund, webhooks

router = APIRouter(tags=["payments"])


class VerifyRequest(BaseModel):
    order_id: uuid.UUID
    razorpay_order_id: str = Field(min_length=1, max_length=64)
    razorpay_payment_id: str = Field(min_length=1, max_length=64)
    razorpay_signature: str = Field(min_length=1, max_length=256)


class ManualRefundIn(BaseModel):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)
    ] = Field(description="Why the money is given back (kept with the refund)")


class WebhookAck(BaseModel):
    received: bool
    duplicate: bool


@router.post("/payments/verify", response_model=Envelope[OrderOut])
async def verify_payment(
    body: VerifyRequest, user: CurrentUser, db: Session, c: ContainerDep
) -> Envelope[OrderOut]:
    order = await capture.verify_own(
        c,
        db,
        user,
        body.order_id,
        body.razorpay_order_id,
        body.razorpay_payment_id,
        body.razorpay_signature,
    )
    return Envelope(data=await customer_order(c, db, order))


@router.post("/orders/{order_id}/payment/retry", response_model=Envelope[OrderOut])
async def retry_payment(
    order_id: uuid.UUID, user: CurrentUser, db: Session, c: ContainerDep
) -> Envelope[OrderOut]:
    order = await checkout.retry_own(c, db, user, order_id)
    return Envelope(data=await customer_order(c, db, order))


@router.post("/orders/{order_id}/payment/switch-to-cash", response_model=Envelope[OrderOut])
async def switch_to_cash(
    order_id: uuid.UUID, user: CurrentUser, db: Session, c: ContainerDep
) -> Envelope[OrderOut]:
    order = await checkout.switch_own_to_cash(c, db, user, order_id)
    return Envelope(data=await customer_order(c, db, order))


@router.post("/payments/webhooks/razorpay", response_model=Envelope[WebhookAck])
async def razorpay_webhook(
    request: Request,
    db: Session,
    c: ContainerDep,
    signature: Annotated[str | None, Header(alias="X-Razorpay-Signature")] = None,
    event_id: Annotated[str | None, Header(alias="x-razorpay-event-id")] = None,
) -> Envelope[WebhookAck]:
    """Verify over the raw bytes, store once by event id, answer at once; a job applies it."""
    fresh = await webhooks.receive(c, db, await request.body(), signature, event_id)
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
    """Where the hosted checkout returns (payments.callback)."""
    page = await callback.checkout_returned(
        c,
        db,
        order_id,
        razorpay_order_id,
        razorpay_payment_id,
        razorpay_signature,
        status,
        error_description,
    )
    return HTMLResponse(page)


@router.post("/admin/orders/{order_id}/refund", response_model=Envelope[RefundOut], status_code=202)
async def refund_by_admin(
    order_id: uuid.UUID, body: ManualRefundIn, admin: Admin, db: Session
) -> Envelope[RefundOut]:
    """Refund a paid order by hand (e.g. one not collected, which is never refunded
    automatically); the refund is sent to the gateway after the commit."""
    refund = await manual_refund.refund_by_admin(db, order_id, body.reason, admin)
    return Envelope(
        data=RefundOut(status=refund.status, amount=refund.amount, reason=refund.reason)
    )
