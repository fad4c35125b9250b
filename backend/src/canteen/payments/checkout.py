"""The customer's side of a UPI payment: the gateway order, a retry, a switch to cash."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.core.db import utcnow
from canteen.core.direct import Loaded, WholeRowInsert
from canteen.core.errors import field_error
from canteen.events.types import EventType
from canteen.menu import service as menu
from canteen.orders import service as orders
from canteen.orders.events import record_order_event
from canteen.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from canteen.orders.no_shows import check_cash_allowed
from canteen.orders.state import Actor
from canteen.payments.errors import (
    PaymentGatewayUnavailable,
    PaymentMethodDisabled,
    PaymentNotRetryable,
)
from canteen.payments.gateway import GatewayError
from canteen.payments.models import Payment, PaymentState
from canteen.users.models import User

log = logging.getLogger("canteen.payments")

# The checkout's one write, on every UPI order: compiled once, sent straight to the driver
# (canteen.core.direct), every column given; the row becomes the session's `Payment` as if
# loaded (issue 20: the ORM's flush of it cost more CPU than the rest of the transaction).
# A just-placed order's checkout writes this row alone, after the placement's commit: it
# then needs no transaction around it (no BEGIN, no COMMIT: two round trips fewer). In a
# transaction begun already (a retry, its order locked) it is part of it.
_PAYMENTS: Table = Payment.__table__  # type: ignore[assignment]
_INSERT_PAYMENT = WholeRowInsert(_PAYMENTS, in_transaction=False)
_LOADED_PAYMENT = Loaded.of_table(Payment)


def callback_url(c: Container, order_id: uuid.UUID) -> str:
    return f"{c.settings.public_base_url}/api/v1/payments/callback?order_id={order_id}"


async def payment_for(session: AsyncSession, order_id: uuid.UUID) -> Payment | None:
    payment: Payment | None = await session.scalar(
        select(Payment).where(Payment.order_id == order_id)
    )
    return payment


async def ensure_checkout(
    c: Container, session: AsyncSession, order: Order, *, placed_now: bool = False
) -> Payment | None:
    """The order's gateway order, created on first need. None if the gateway is down: the
    order stands, and the app asks again with POST /orders/{id}/payment/retry.
    `placed_now`: the order was committed by this request, so it has no payment to read."""
    payment = None if placed_now else await payment_for(session, order.id)
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
    stamped = utcnow()
    row = _INSERT_PAYMENT.row(
        id=uuid.uuid4(),
        order_id=order.id,
        gateway=c.gateway.name,
        gateway_order_id=gateway_order.id,
        amount=order.total,
        currency=order.currency,
        status=PaymentState.created.value,
        attempts=1,
        expires_at=c.clock.now() + timedelta(seconds=c.settings.payment_timeout_seconds),
        created_at=stamped,
        updated_at=stamped,
    )
    created = await _INSERT_PAYMENT.add(session, row, _LOADED_PAYMENT)
    return created


async def retry_own(c: Container, session: AsyncSession, user: User, order_id: uuid.UUID) -> Order:
    """POST /orders/{id}/payment/retry: the customer's own order, locked, tried again."""
    order = await orders.lock_own_order(session, user, order_id)
    await retry(c, session, order)
    return order


async def retry(c: Container, session: AsyncSession, order: Order) -> Payment:
    """A declined or abandoned UPI payment is tried again on the same gateway order."""
    if order.payment_method != PaymentMethod.upi or order.status != OrderStatus.received:
        raise PaymentNotRetryable(
            details=[{"status": order.status, "payment_status": order.payment_status}],
        )
    payment = await payment_for(session, order.id)
    if payment is None:
        payment = await ensure_checkout(c, session, order)
        if payment is None:
            raise PaymentGatewayUnavailable()
        return payment
    await session.refresh(payment, with_for_update=True)
    if payment.status == PaymentState.captured:
        raise PaymentNotRetryable("This order is already paid")
    payment.status = PaymentState.created
    payment.attempts += 1
    payment.expires_at = c.clock.now() + timedelta(seconds=c.settings.payment_timeout_seconds)
    if order.payment_status != PaymentStatus.pending:
        order.payment_status = PaymentStatus.pending
        await record_order_event(
            session,
            EventType.order_payment_updated,
            order,
            data={"retry": payment.attempts, "payment": {"status": PaymentState.created.value}},
        )
    return payment


async def switch_own_to_cash(
    c: Container, session: AsyncSession, user: User, order_id: uuid.UUID
) -> Order:
    """POST /orders/{id}/payment/switch-to-cash on the customer's own order."""
    order = await orders.lock_own_order(session, user, order_id)
    # Past the canteen's no-show limit the customer pays by UPI only (issue 16).
    check_cash_allowed(await menu.get_config(session), user, PaymentMethod.cash)
    return await switch_to_cash(c, session, order)


async def switch_to_cash(c: Container, session: AsyncSession, order: Order) -> Order:
    config = await menu.get_config(session)
    if not config.cash_payment_enabled:
        raise PaymentMethodDisabled(
            details=[field_error("payment_method", "disabled", value="cash")]
        )
    if (
        order.payment_method != PaymentMethod.upi
        or order.status != OrderStatus.received
        or order.payment_status == PaymentStatus.captured
    ):
        raise PaymentNotRetryable("Only an unpaid UPI order can switch to cash")
    payment = await payment_for(session, order.id)
    if payment is not None:
        await session.refresh(payment, with_for_update=True)
        if payment.status == PaymentState.captured:
            raise PaymentNotRetryable("This order is already paid")
        payment.status = PaymentState.abandoned
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
