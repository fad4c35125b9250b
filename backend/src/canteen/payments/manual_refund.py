"""An admin's refund by hand, with a reason (issue 16): a paid UPI order that was not
collected keeps its money automatically (the food was made); the canteen may still give
it back, e.g. to a student who was kept away.

The refund is recorded in the request's transaction with an `order.payment_updated`
event asking for it (`refund_needed`): the outbox reaction queues the usual
`payments.refund_order` job, and `payments.redrive_refunds` sends it if that job is lost.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.errors import field_error
from canteen.events.types import EventType
from canteen.orders import service as orders
from canteen.orders.events import record_order_event
from canteen.payments.errors import AlreadyRefunded, OrderNotPaid
from canteen.payments.models import Payment, PaymentState, Refund, RefundState
from canteen.users.models import User


async def refund_by_admin(
    session: AsyncSession, order_id: uuid.UUID, reason: str, admin: User
) -> Refund:
    order = await orders.lock_order(session, order_id)
    payment = await session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    existing = (
        await session.scalar(select(Refund).where(Refund.payment_id == payment.id))
        if payment is not None
        else None
    )
    if existing is not None or (payment is not None and payment.status == PaymentState.refunded):
        status = existing.status if existing is not None else RefundState.processed
        raise AlreadyRefunded(
            f"This order's payment was already refunded (refund {status})",
            details=[
                field_error(
                    "order_id",
                    "already_refunded",
                    "An order's payment is refunded once",
                    refund_status=str(status),
                )
            ],
        )
    if payment is None or payment.status != PaymentState.captured:
        raise OrderNotPaid(
            details=[
                field_error(
                    "order_id",
                    "not_paid",
                    "Only an order paid by UPI (captured) can be refunded",
                    payment_method=order.payment_method,
                    payment_status=order.payment_status,
                )
            ]
        )
    refund = Refund(
        payment_id=payment.id,
        order_id=order.id,
        amount=payment.amount,
        status=RefundState.requested,
        reason=reason[:500],
        idempotency_key=f"refund-{payment.id.hex}",
    )
    session.add(refund)
    await session.flush()
    await record_order_event(
        session,
        EventType.order_payment_updated,
        order,
        actor_id=admin.id,
        data={
            "refund": {"status": str(refund.status), "amount": refund.amount, "reason": reason},
            "refund_needed": True,
            "reason": reason,
            "by": "admin",
        },
    )
    return refund
