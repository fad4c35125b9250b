"""Refunds: recorded once per payment, sent to the gateway, settled by its answer or
webhook, and re-driven when their job was lost."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.events.types import EventType
from canteen.orders import service as orders
from canteen.orders.events import record_order_event
from canteen.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from canteen.payments.models import (
    FINAL_REFUND_STATES,
    Payment,
    PaymentState,
    Refund,
    RefundState,
)


async def refund_order(session: AsyncSession, order_id: uuid.UUID, reason: str) -> Refund | None:
    """Record the refund of a cancelled order's captured payment (idempotent)."""
    order = await orders.lock_order(session, order_id)
    payment = await session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None or payment.status != PaymentState.captured:
        return None
    existing = await session.scalar(select(Refund).where(Refund.payment_id == payment.id))
    if existing is not None:
        return existing
    refund = Refund(
        payment_id=payment.id,
        order_id=order.id,
        amount=payment.amount,
        status=RefundState.requested,
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
    if refund.status != RefundState.requested:
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


async def refund_update_failed(session: AsyncSession, refund_id: uuid.UUID, error: str) -> None:
    refund = await session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
    if refund is not None and refund.status == RefundState.requested:
        refund.error = error[:1000]
        await _refund_state(session, refund, RefundState.failed)


async def _refund_state(session: AsyncSession, refund: Refund, status: str) -> None:
    """Refunds move forward only; a final one (processed, failed) is told to the order."""
    if refund.status in FINAL_REFUND_STATES or status == refund.status:
        return
    refund.status = status
    if status not in FINAL_REFUND_STATES:
        return
    order = await orders.lock_order(session, refund.order_id)
    payment = await session.get(Payment, refund.payment_id)
    assert payment is not None
    if status == RefundState.processed:
        payment.status = PaymentState.refunded
        order.payment_status = PaymentStatus.refunded
    await record_order_event(
        session,
        EventType.order_payment_updated,
        order,
        data={"refund": {"status": str(status), "amount": refund.amount, "reason": refund.reason}},
    )


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
            Payment.status == PaymentState.captured,
            Refund.id.is_(None),
            or_(Order.status == OrderStatus.cancelled, Order.payment_method != PaymentMethod.upi),
            Order.updated_at <= cutoff,
            Payment.updated_at <= cutoff,
        )
        .limit(limit)
    )
    unsent = await session.execute(
        select(Refund.order_id, Refund.reason)
        .where(Refund.status == RefundState.requested, Refund.updated_at <= cutoff)
        .limit(limit)
    )
    return [(oid, _refund_reason(status, reason)) for oid, status, reason in owed.tuples()] + [
        (oid, reason) for oid, reason in unsent.tuples()
    ]


def _refund_reason(status: str, cancel_reason: str | None) -> str:
    # As payments.reactions words it when the event that asks for the refund is delivered.
    if status == OrderStatus.cancelled and cancel_reason != "payment_timeout":
        return cancel_reason or "order cancelled"
    return "payment arrived after the order was closed"
