"""Money arriving (or not): the app's verify call, the gateway's capture and failure.

Every path that changes a payment locks the order row first (`SELECT … FOR UPDATE`), so
the client's verify call, the webhook and the timeout sweep can race without confirming
an order twice or confirming an unpaid one: whichever comes first wins, the rest see the
new state and do nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.core.direct import DirectStatement, Loaded
from canteen.core.errors import field_error
from canteen.events.types import EventType
from canteen.orders import service as orders
from canteen.orders.events import record_order_event
from canteen.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from canteen.orders.state import Actor
from canteen.payments.errors import PaymentNotStarted, PaymentSignatureInvalid
from canteen.payments.models import Payment, PaymentState
from canteen.users.models import User

_PAYMENTS: Table = Payment.__table__  # type: ignore[assignment]
_LOCK_PAYMENT = DirectStatement(
    select(_PAYMENTS).where(_PAYMENTS.c.order_id == bindparam("order_id")).with_for_update()
)
_LOCKED_PAYMENT = Loaded(Payment, _LOCK_PAYMENT.columns)


async def locked(session: AsyncSession, order_id: uuid.UUID) -> tuple[Order, Payment]:
    order = await orders.lock_order(session, order_id)
    return order, await _locked_payment(session, order_id)


async def _locked_payment(session: AsyncSession, order_id: uuid.UUID) -> Payment:
    """The order's payment, locked, by the direct path (issue 20). One the session holds
    from an unlocked read is refreshed: after the lock only the database's current values
    count (a racing verify or webhook may have just captured the payment)."""
    rows = await _LOCK_PAYMENT.rows(session, {"order_id": order_id})
    if not rows:
        raise PaymentNotStarted()
    return await _LOCKED_PAYMENT.attach(session, rows[0], fresh=True)


async def verify_own(
    c: Container,
    session: AsyncSession,
    user: User,
    order_id: uuid.UUID,
    gateway_order_id: str,
    gateway_payment_id: str,
    signature: str,
) -> Order:
    """POST /payments/verify: only for the customer's own order."""
    order = await orders.lock_own_order(session, user, order_id)
    payment = await _locked_payment(session, order_id)
    return await _verify(
        c, session, order, payment, gateway_order_id, gateway_payment_id, signature
    )


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
    order, payment = await locked(session, order_id)
    return await _verify(
        c, session, order, payment, gateway_order_id, gateway_payment_id, signature
    )


async def _verify(
    c: Container,
    session: AsyncSession,
    order: Order,
    payment: Payment,
    gateway_order_id: str,
    gateway_payment_id: str,
    signature: str,
) -> Order:
    valid = c.gateway.verify_payment_signature(
        payment.gateway_order_id, gateway_payment_id, signature
    )
    if not valid or gateway_order_id != payment.gateway_order_id:
        raise PaymentSignatureInvalid(details=[field_error("razorpay_signature", "mismatch")])
    await _capture(session, order, payment, gateway_payment_id, now=c.clock.now())
    return order


async def capture_by_gateway_order(
    c: Container, session: AsyncSession, gateway_order_id: str, gateway_payment_id: str
) -> str:
    payment_row = await session.scalar(
        select(Payment).where(Payment.gateway_order_id == gateway_order_id)
    )
    if payment_row is None:
        return "unknown gateway order"
    order, payment = await locked(session, payment_row.order_id)
    return await _capture(session, order, payment, gateway_payment_id, now=c.clock.now())


async def _capture(
    session: AsyncSession,
    order: Order,
    payment: Payment,
    gateway_payment_id: str,
    *,
    now: datetime,
) -> str:
    if payment.status in (PaymentState.captured, PaymentState.refunded):
        return "already captured"  # the other of verify and webhook got here first
    payment.status = PaymentState.captured
    payment.gateway_payment_id = gateway_payment_id
    payment.captured_at = now
    payment.error_code = payment.error_description = None
    order.payment_status = PaymentStatus.captured
    if order.status == OrderStatus.received and order.payment_method == PaymentMethod.upi:
        await orders.transition(
            session, order, OrderStatus.confirmed, actor=Actor.system, actor_id=None, now=now
        )
        return "captured; order confirmed"
    # Money arrived for an order that is no longer waiting for it (cancelled by the
    # timeout sweep, or switched to cash): give it back. payments.reactions turns
    # `refund_needed` into a refund job (side effects leave through the outbox, never
    # from inside this transaction).
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
    return "captured after close; refunding"


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
    order, payment = await locked(session, payment_row.order_id)
    if payment.status != PaymentState.created:
        return f"ignored: payment is {payment.status}"  # captured wins over a late failure
    payment.status = PaymentState.failed
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
                    "status": PaymentState.failed.value,
                    "failure_reason": payment.error_description or error_code,
                },
            },
        )
    return "payment failed"
