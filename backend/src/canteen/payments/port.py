"""Payments as orders sees it (`canteen.orders.ports.PaymentsPort`): an order's payment
and refund for its customer, and the checkout of a just-placed UPI order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.core.direct import DirectStatement, Loaded, OneToMany
from canteen.orders.models import Order
from canteen.orders.ports import PaymentFacts, connect_payments
from canteen.orders.schemas import PaymentInfo, RefundOut
from canteen.payments.checkout import callback_url, ensure_checkout
from canteen.payments.models import Payment, PaymentState, Refund

# A gateway order the customer can still pay on: one declined attempt leaves it open.
_PAYABLE = frozenset({PaymentState.created, PaymentState.failed})

# One order's payment with its refunds (every answer about a customer's order shows them),
# in one statement, a row per refund (the payment's columns, then the refund's): the
# direct path, as queries load them (issue 20). A cash order has no payment and so no
# refund (refunds.payment_id): no row at all.
_PAYMENTS: Table = Payment.__table__  # type: ignore[assignment]
_REFUNDS: Table = Refund.__table__  # type: ignore[assignment]
_PAYMENT_AND_REFUNDS = OneToMany(_PAYMENTS, _REFUNDS, _REFUNDS.c.payment_id == _PAYMENTS.c.id)
_PAYMENT_OF = DirectStatement(
    _PAYMENT_AND_REFUNDS.select.where(_PAYMENTS.c.order_id == bindparam("id")).order_by(
        _REFUNDS.c.created_at
    ),
    in_transaction=False,
)
_LOADED_PAYMENT = Loaded.of_table(Payment)
_LOADED_REFUND = Loaded.of_table(Refund)


class Payments:
    async def facts(
        self, c: Container, session: AsyncSession, orders: Sequence[Order]
    ) -> dict[uuid.UUID, PaymentFacts]:
        ids = [o.id for o in orders]
        if len(ids) == 1:
            found = await _of_one(session, ids[0])
        else:
            found = (
                list(await session.scalars(select(Payment).where(Payment.order_id.in_(ids)))),
                list(await session.scalars(select(Refund).where(Refund.order_id.in_(ids)))),
            )
        payments = {p.order_id: p for p in found[0]}
        refunds = {r.order_id: r for r in found[1]}
        return {
            order_id: _facts(c, payments.get(order_id), refunds.get(order_id))
            for order_id in payments.keys() | refunds.keys()
        }

    async def start_checkout(
        self, c: Container, session: AsyncSession, order: Order
    ) -> PaymentFacts:
        # A just-placed order has no refund; its payment is at hand (no second read).
        return _facts(c, await ensure_checkout(c, session, order, placed_now=True), None)


async def _of_one(session: AsyncSession, order_id: uuid.UUID) -> tuple[list[Payment], list[Refund]]:
    rows = await _PAYMENT_OF.rows(session, {"id": order_id})
    if not rows:
        return [], []
    payment_values, refund_rows = _PAYMENT_AND_REFUNDS.split(rows)
    payment = await _LOADED_PAYMENT.attach(session, payment_values)
    return [payment], [await _LOADED_REFUND.attach(session, row) for row in refund_rows]


def _facts(c: Container, payment: Payment | None, refund: Refund | None) -> PaymentFacts:
    return PaymentFacts(
        payment=payment_info(c, payment),
        refund=RefundOut(status=refund.status, amount=refund.amount, reason=refund.reason)
        if refund is not None
        else None,
        payable=payment is not None and payment.status in _PAYABLE,
    )


def payment_info(c: Container, payment: Payment | None) -> PaymentInfo | None:
    if payment is None or payment.status == PaymentState.abandoned:
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
        if payment.status == PaymentState.failed
        else None,
    )


def connect() -> None:
    """Called by the composition root (canteen.bootstrap)."""
    connect_payments(Payments())
