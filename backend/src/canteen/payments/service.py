"""UPI payments: checkout, verification, webhooks, timeouts and refunds (design §8).

Every path that changes a payment locks the order row first (`SELECT … FOR UPDATE`), so
the client's verify call, the webhook and the timeout sweep can race without confirming
an order twice or confirming an unpaid one: whichever comes first wins, the rest see the
new state and do nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.core.errors import AppError, Conflict, NotFound
from canteen.events.types import EventType
from canteen.menu import service as menu
from canteen.orders import service as orders
from canteen.orders.events import record_order_event
from canteen.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from canteen.orders.schemas import OrderOut, PaymentInfo, RefundOut
from canteen.orders.state import Actor
from canteen.orders.views import order_out
from canteen.payments.gateway import GatewayError, GatewayPayment
from canteen.payments.models import Payment, Refund, WebhookEvent

log = logging.getLogger("canteen.payments")


class PaymentSignatureInvalid(AppError):
    status_code = 400
    code = "PAYMENT_SIGNATURE_INVALID"
    message = "The payment signature does not match this order"


class PaymentGatewayUnavailable(AppError):
    status_code = 503
    code = "PAYMENT_GATEWAY_UNAVAILABLE"
    message = "The payment service is not answering; try again in a moment"


def callback_url(c: Container, order_id: uuid.UUID) -> str:
    return f"{c.settings.public_base_url}/api/v1/payments/callback?order_id={order_id}"


def payment_info(c: Container, payment: Payment | None) -> PaymentInfo | None:
    if payment is None or payment.status in ("abandoned",):
        return None
    return PaymentInfo(
        gateway=payment.gateway,
        key_id=c.gateway.key_id,
        gateway_order_id=payment.gateway_order_id,
        amount=payment.amount,
        currency=payment.currency,
        checkout_url=c.gateway.checkout_url(
            payment.gateway_order_id, callback_url(c, payment.order_id)
        ),
        status=payment.status,
        failure_reason=payment.error_description or payment.error_code
        if payment.status == "failed"
        else None,
    )


async def payment_for(session: AsyncSession, order_id: uuid.UUID) -> Payment | None:
    payment: Payment | None = await session.scalar(
        select(Payment).where(Payment.order_id == order_id)
    )
    return payment


async def refund_for(session: AsyncSession, order_id: uuid.UUID) -> Refund | None:
    refund: Refund | None = await session.scalar(
        select(Refund).where(Refund.order_id == order_id).order_by(Refund.created_at.desc())
    )
    return refund


async def ensure_checkout(c: Container, session: AsyncSession, order: Order) -> Payment | None:
    """The order's gateway order, created on first need. None if the gateway is down: the
    order stands, and the app asks again with POST /orders/{id}/payment/retry."""
    payment = await payment_for(session, order.id)
    if payment is not None:
        return payment
    try:
        gateway_order = await c.gateway.create_order(
            amount=order.total,
            currency=order.currency,
            receipt=order.number,
            notes={"order_id": str(order.id), "order_number": order.number},
        )
    except GatewayError as exc:
        log.warning("gateway order for %s failed: %s", order.number, exc)
        return None
    payment = Payment(
        order_id=order.id,
        gateway=c.gateway.name,
        gateway_order_id=gateway_order.id,
        amount=order.total,
        currency=order.currency,
        status="created",
        attempts=1,
        expires_at=c.clock.now() + timedelta(seconds=c.settings.payment_timeout_seconds),
    )
    session.add(payment)
    await session.flush()
    return payment


async def _locked(session: AsyncSession, order_id: uuid.UUID) -> tuple[Order, Payment]:
    # populate_existing: the rows may already sit in this session from an unlocked read;
    # after the lock only the database's current values count (a racing verify or webhook
    # may have just captured the payment).
    order = await orders.lock_order(session, order_id)
    payment = await session.scalar(
        select(Payment)
        .where(Payment.order_id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None:
        raise Conflict("No payment has been started for this order", code="PAYMENT_NOT_STARTED")
    return order, payment


async def verify(
    c: Container,
    session: AsyncSession,
    order_id: uuid.UUID,
    gateway_order_id: str,
    gateway_payment_id: str,
    signature: str,
) -> Order:
    """The app's checkout callback. The signature is checked against the gateway order id
    stored on our side, never the one the client sends (integrations.md §1.2)."""
    order, payment = await _locked(session, order_id)
    valid = c.gateway.verify_payment_signature(
        payment.gateway_order_id, gateway_payment_id, signature
    )
    if not valid or gateway_order_id != payment.gateway_order_id:
        raise PaymentSignatureInvalid(
            details=[{"field": "razorpay_signature", "issue": "mismatch"}]
        )
    await _capture(c, session, order, payment, gateway_payment_id, now=c.clock.now())
    return order


async def capture_by_gateway_order(
    c: Container, session: AsyncSession, gateway_order_id: str, gateway_payment_id: str
) -> str:
    payment_row = await session.scalar(
        select(Payment).where(Payment.gateway_order_id == gateway_order_id)
    )
    if payment_row is None:
        return "unknown gateway order"
    order, payment = await _locked(session, payment_row.order_id)
    return await _capture(c, session, order, payment, gateway_payment_id, now=c.clock.now())


async def _capture(
    c: Container,
    session: AsyncSession,
    order: Order,
    payment: Payment,
    gateway_payment_id: str,
    *,
    now: datetime,
) -> str:
    if payment.status in ("captured", "refunded"):
        return "already captured"  # the other of verify and webhook got here first
    payment.status = "captured"
    payment.gateway_payment_id = gateway_payment_id
    payment.captured_at = now
    payment.error_code = payment.error_description = None
    order.payment_status = PaymentStatus.captured
    if order.status == OrderStatus.received and order.payment_method == PaymentMethod.upi:
        await orders.transition(
            session, order, OrderStatus.confirmed, actor=Actor.system, actor_id=None, now=now
        )
        outcome = "captured; order confirmed"
    else:
        # Money arrived for an order that is no longer waiting for it (cancelled by the
        # timeout sweep, or switched to cash): give it back.
        # The dispatcher turns `refund_needed` into a refund job (side effects leave
        # through the outbox, never from inside this transaction).
        await record_order_event(
            session,
            EventType.order_payment_updated,
            order,
            data={
                "captured": True,
                "refund_needed": True,
                "reason": "payment arrived after the order was closed",
            },
        )
        outcome = "captured after close; refunding"
    return outcome


async def fail_by_gateway_order(
    session: AsyncSession,
    gateway_order_id: str,
    error_code: str | None,
    error_description: str | None,
) -> str:
    payment_row = await session.scalar(
        select(Payment).where(Payment.gateway_order_id == gateway_order_id)
    )
    if payment_row is None:
        return "unknown gateway order"
    order, payment = await _locked(session, payment_row.order_id)
    if payment.status != "created":
        return f"ignored: payment is {payment.status}"  # captured wins over a late failure
    payment.status = "failed"
    payment.error_code = error_code
    payment.error_description = (error_description or "")[:500] or None
    if order.status == OrderStatus.received:
        order.payment_status = PaymentStatus.failed
        await record_order_event(
            session,
            EventType.order_payment_updated,
            order,
            data={
                "error_code": error_code,
                "error": error_description,
                # What the tracking screen needs to offer "Try UPI again" / "Pay cash".
                "payment": {
                    "status": "failed",
                    "failure_reason": payment.error_description or error_code,
                },
            },
        )
    return "payment failed"


async def retry(c: Container, session: AsyncSession, order: Order) -> Payment:
    """A declined or abandoned UPI payment is tried again on the same gateway order."""
    if order.payment_method != PaymentMethod.upi or order.status != OrderStatus.received:
        raise Conflict(
            "This order is not waiting for a UPI payment",
            code="PAYMENT_NOT_RETRYABLE",
            details=[{"status": order.status, "payment_status": order.payment_status}],
        )
    payment = await payment_for(session, order.id)
    if payment is None:
        payment = await ensure_checkout(c, session, order)
        if payment is None:
            raise PaymentGatewayUnavailable()
        return payment
    await session.refresh(payment, with_for_update=True)
    if payment.status == "captured":
        raise Conflict("This order is already paid", code="PAYMENT_NOT_RETRYABLE")
    payment.status = "created"
    payment.attempts += 1
    payment.expires_at = c.clock.now() + timedelta(seconds=c.settings.payment_timeout_seconds)
    if order.payment_status != PaymentStatus.pending:
        order.payment_status = PaymentStatus.pending
        await record_order_event(
            session,
            EventType.order_payment_updated,
            order,
            data={"retry": payment.attempts, "payment": {"status": "created"}},
        )
    return payment


async def switch_to_cash(c: Container, session: AsyncSession, order: Order) -> Order:
    config = await menu.get_config(session)
    if not config.cash_payment_enabled:
        raise Conflict(
            "Paying by cash is not available right now",
            code="PAYMENT_METHOD_DISABLED",
            details=[{"field": "payment_method", "value": "cash"}],
        )
    if (
        order.payment_method != PaymentMethod.upi
        or order.status != OrderStatus.received
        or order.payment_status == PaymentStatus.captured
    ):
        raise Conflict("Only an unpaid UPI order can switch to cash", code="PAYMENT_NOT_RETRYABLE")
    payment = await payment_for(session, order.id)
    if payment is not None:
        await session.refresh(payment, with_for_update=True)
        if payment.status == "captured":
            raise Conflict("This order is already paid", code="PAYMENT_NOT_RETRYABLE")
        payment.status = "abandoned"
    order.payment_method = PaymentMethod.cash
    order.payment_status = PaymentStatus.cash_due
    await orders.transition(
        session,
        order,
        OrderStatus.confirmed,
        actor=Actor.system,
        actor_id=order.customer_id,
        now=c.clock.now(),
        reason="switched to cash",
    )
    return order


async def refund_order(
    c: Container, session: AsyncSession, order_id: uuid.UUID, reason: str
) -> Refund | None:
    """Record the refund of a cancelled order's captured payment (idempotent)."""
    order = await orders.lock_order(session, order_id)
    payment = await session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None or payment.status != "captured":
        return None
    existing = await session.scalar(select(Refund).where(Refund.payment_id == payment.id))
    if existing is not None:
        return existing
    refund = Refund(
        payment_id=payment.id,
        order_id=order.id,
        amount=payment.amount,
        status="requested",
        reason=(reason or "order cancelled")[:500],
        idempotency_key=f"refund-{payment.id.hex}",
    )
    session.add(refund)
    await session.flush()
    return refund


async def send_refund(c: Container, session: AsyncSession, refund_id: uuid.UUID) -> str:
    refund = await session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
    if refund is None:
        return "no such refund"
    if refund.status not in ("requested",):
        return f"already {refund.status}"
    payment = await session.get(Payment, refund.payment_id)
    assert payment is not None and payment.gateway_payment_id is not None
    result = await c.gateway.refund(
        payment.gateway_payment_id,
        amount=refund.amount,
        idempotency_key=refund.idempotency_key,
        notes={"reason": refund.reason[:200]},
    )
    refund.gateway_refund_id = result.id
    await _refund_state(session, refund, result.status)
    return f"refund {result.status}"


async def refund_update_by_gateway_id(
    session: AsyncSession, gateway_refund_id: str, status: str, payment_gateway_id: str | None
) -> str:
    refund = await session.scalar(
        select(Refund)
        .where(Refund.gateway_refund_id == gateway_refund_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if refund is None and payment_gateway_id:
        # The webhook can beat our own record of the gateway's refund id.
        refund = await session.scalar(
            select(Refund)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(
                Payment.gateway_payment_id == payment_gateway_id,
                or_(
                    Refund.gateway_refund_id.is_(None),
                    Refund.gateway_refund_id == gateway_refund_id,
                ),
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if refund is not None:
            refund.gateway_refund_id = gateway_refund_id
    if refund is None:
        return "unknown refund"
    await _refund_state(session, refund, status)
    return f"refund {status}"


async def _refund_state(session: AsyncSession, refund: Refund, status: str) -> None:
    if refund.status in ("processed", "failed") or status == refund.status:
        return
    refund.status = status
    if status != "processed" and status != "failed":
        return
    order = await orders.lock_order(session, refund.order_id)
    payment = await session.get(Payment, refund.payment_id)
    assert payment is not None
    if status == "processed":
        payment.status = "refunded"
        order.payment_status = PaymentStatus.refunded
    await record_order_event(
        session,
        EventType.order_payment_updated,
        order,
        data={"refund": {"status": status, "amount": refund.amount, "reason": refund.reason}},
    )


async def unpaid_past_deadline(
    c: Container, session: AsyncSession, *, limit: int = 100
) -> list[tuple[uuid.UUID, str | None]]:
    """UPI orders left unpaid past their deadline: (order id, gateway order id or None)."""
    now = c.clock.now()
    deadline = now - timedelta(seconds=c.settings.payment_timeout_seconds)
    rows = await session.execute(
        select(Order.id, Payment.gateway_order_id)
        .outerjoin(Payment, Payment.order_id == Order.id)
        .where(
            Order.status == OrderStatus.received,
            Order.payment_method == PaymentMethod.upi,
            or_(
                Payment.expires_at <= now,
                (Payment.id.is_(None)) & (Order.created_at <= deadline),
            ),
        )
        .limit(limit)
    )
    return [(order_id, gateway_order_id) for order_id, gateway_order_id in rows.tuples()]


async def captured_at_gateway(c: Container, gateway_order_id: str) -> str | None:
    """The id of a payment the gateway captured for this order, if the money arrived after
    all. Raises GatewayError when the gateway cannot say (then nothing may be cancelled)."""
    payments: list[GatewayPayment] = await c.gateway.order_payments(gateway_order_id)
    for p in payments:
        if p.status in ("captured", "refunded") or p.captured:
            return p.id
    return None


async def expire_unpaid_order(
    c: Container,
    session: AsyncSession,
    order_id: uuid.UUID,
    gateway_order_id: str | None,
    captured_payment_id: str | None,
) -> str | None:
    """Settle one order found unpaid past its deadline, after the gateway was asked:
    confirm it if the money arrived, else cancel it. None if it was settled meanwhile."""
    if captured_payment_id and gateway_order_id:
        return await capture_by_gateway_order(c, session, gateway_order_id, captured_payment_id)
    order = await orders.lock_order(session, order_id)
    if order.status != OrderStatus.received or order.payment_status == PaymentStatus.captured:
        return None  # paid while we were asking
    payment = await payment_for(session, order.id)
    if payment is not None and payment.status == "created":
        payment.status = "failed"
        payment.error_code = "TIMEOUT"
    # The money never came: the order shows payment `failed` (with the order's reason
    # `payment_timeout`), not `pending` for good. A payment that still arrives later is
    # captured and refunded like any payment for a closed order.
    order.payment_status = PaymentStatus.failed
    await orders.transition(
        session,
        order,
        OrderStatus.cancelled,
        actor=Actor.system,
        actor_id=None,
        now=c.clock.now(),
        reason="payment_timeout",
    )
    return f"{order.number} cancelled: payment_timeout"


async def webhook_pending(session: AsyncSession, event_id: str) -> bool:
    """True if this stored webhook has not been applied yet."""
    row = await session.get(WebhookEvent, event_id)
    return row is not None and row.processed_at is None


async def unapplied_webhooks(
    c: Container, session: AsyncSession, *, older_than: float, limit: int = 100
) -> list[str]:
    """Ids of stored webhooks not applied `older_than` seconds after they arrived."""
    cutoff = c.clock.now() - timedelta(seconds=older_than)
    ids = await session.scalars(
        select(WebhookEvent.id)
        .where(WebhookEvent.processed_at.is_(None), WebhookEvent.received_at <= cutoff)
        .order_by(WebhookEvent.received_at)
        .limit(limit)
    )
    return list(ids)


async def refunds_to_redrive(
    c: Container, session: AsyncSession, *, older_than: float, limit: int = 100
) -> list[tuple[uuid.UUID, str]]:
    """(order id, reason) of refunds owed but not under way after `older_than` seconds:
    a captured payment on a cancelled (or switched-to-cash) order with no refund row,
    or a refund recorded but never sent to the gateway."""
    cutoff = c.clock.now() - timedelta(seconds=older_than)
    owed = await session.execute(
        select(Order.id, Order.status, Order.cancel_reason)
        .join(Payment, Payment.order_id == Order.id)
        .outerjoin(Refund, Refund.payment_id == Payment.id)
        .where(
            Payment.status == "captured",
            Refund.id.is_(None),
            or_(Order.status == OrderStatus.cancelled, Order.payment_method != PaymentMethod.upi),
            Order.updated_at <= cutoff,
            Payment.updated_at <= cutoff,
        )
        .limit(limit)
    )
    unsent = await session.execute(
        select(Refund.order_id, Refund.reason)
        .where(Refund.status == "requested", Refund.updated_at <= cutoff)
        .limit(limit)
    )
    rows = [(oid, _refund_reason(status, reason)) for oid, status, reason in owed.tuples()] + [
        (oid, reason) for oid, reason in unsent.tuples()
    ]
    return rows


def _refund_reason(status: str, cancel_reason: str | None) -> str:
    # As the dispatcher words it when the event that asks for the refund is delivered.
    if status == OrderStatus.cancelled and cancel_reason != "payment_timeout":
        return cancel_reason or "order cancelled"
    return "payment arrived after the order was closed"


def summarise(payload: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The entity a webhook is about: (payment entity's order id, the entity dict)."""
    entity = payload.get("payload", {}).get("payment", {}).get("entity", {})
    return entity.get("order_id"), entity


def not_found() -> NotFound:
    return NotFound("No such order")


async def refund_update_failed(session: AsyncSession, refund_id: uuid.UUID, error: str) -> None:
    refund = await session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
    if refund is not None and refund.status == "requested":
        refund.error = error[:1000]
        await _refund_state(session, refund, "failed")


async def order_views(c: Container, session: AsyncSession, rows: list[Order]) -> list[OrderOut]:
    """Orders as their customer sees them, with payment and refund, in two queries."""
    ids = [o.id for o in rows]
    payments = (
        {
            p.order_id: p
            for p in await session.scalars(select(Payment).where(Payment.order_id.in_(ids)))
        }
        if ids
        else {}
    )
    refunds = (
        {
            r.order_id: r
            for r in await session.scalars(select(Refund).where(Refund.order_id.in_(ids)))
        }
        if ids
        else {}
    )
    return [_view(c, order, payments.get(order.id), refunds.get(order.id)) for order in rows]


async def order_view(c: Container, session: AsyncSession, order: Order) -> OrderOut:
    return (await order_views(c, session, [order]))[0]


def new_order_view(c: Container, order: Order, payment: Payment | None) -> OrderOut:
    """A just-placed order: no refund can exist yet and its payment is at hand."""
    return _view(c, order, payment, None)


def _view(c: Container, order: Order, payment: Payment | None, refund: Refund | None) -> OrderOut:
    view = order_out(order)
    if order.payment_method == PaymentMethod.upi and order.status == OrderStatus.received:
        view.payment = payment_info(c, payment)
    if refund is not None:
        view.refund = RefundOut(status=refund.status, amount=refund.amount, reason=refund.reason)
    return view
