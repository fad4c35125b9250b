"""UPI orders left unpaid past their deadline: asked about at the gateway, then settled."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.orders import service as orders
from canteen.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from canteen.orders.state import Actor
from canteen.payments.capture import capture_by_gateway_order
from canteen.payments.checkout import payment_for
from canteen.payments.gateway import GatewayPayment
from canteen.payments.models import Payment, PaymentState


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
    found: list[GatewayPayment] = await c.gateway.order_payments(gateway_order_id)
    for p in found:
        if p.status in (PaymentState.captured, PaymentState.refunded) or p.captured:
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
    if payment is not None and payment.status == PaymentState.created:
        payment.status = PaymentState.failed
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
