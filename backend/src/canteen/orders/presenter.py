"""Orders as the API shows them: the one presenter of every endpoint and socket message.

The customer's order always carries its payment (while one is awaited), its refund (once
one exists) and its `actions`, whichever endpoint or message shows it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.events.models import Event
from canteen.menu import service as menu
from canteen.orders.actions import awaits_upi_payment, customer_actions
from canteen.orders.models import Order
from canteen.orders.no_shows import cash_enabled_for
from canteen.orders.ports import NO_PAYMENT, PaymentFacts, payments
from canteen.orders.schemas import (
    CustomerSummary,
    FeedbackOut,
    KitchenOrderDetail,
    KitchenOrderOut,
    OrderEventOut,
    OrderLineOut,
    OrderOut,
)
from canteen.orders.state import Actor, allowed_next
from canteen.users.models import User


async def customer_orders(
    c: Container, session: AsyncSession, orders: Sequence[Order]
) -> list[OrderOut]:
    """Orders as their customer sees them: one query for the payments and refunds of all,
    one for whether cash is accepted."""
    if not orders:
        return []
    facts = await payments().facts(c, session, orders)
    cash = await _cash_enabled(session, orders)
    return [customer_order_out(o, facts.get(o.id, NO_PAYMENT), cash[o.customer_id]) for o in orders]


async def _cash_enabled(session: AsyncSession, orders: Sequence[Order]) -> dict[uuid.UUID, bool]:
    """Whether each order's customer may pay cash: the canteen takes cash and the customer
    is within its no-show limit (issue 16); the count is read only when a limit is set."""
    config = await menu.get_config(session)
    customers = {o.customer_id for o in orders}
    if not config.cash_payment_enabled or config.no_show_cash_limit is None:
        return dict.fromkeys(customers, config.cash_payment_enabled)
    counts = await session.execute(
        select(User.id, User.no_show_count).where(User.id.in_(customers))
    )
    allowed = {uid: cash_enabled_for(config, n) for uid, n in counts.tuples()}
    return {uid: allowed.get(uid, True) for uid in customers}


async def customer_order(
    c: Container,
    session: AsyncSession,
    order: Order,
    facts: PaymentFacts | None = None,
    cash_enabled: bool | None = None,
) -> OrderOut:
    """`facts` and `cash_enabled`: what the caller knows already (a just-placed order:
    its payment, and the settings it was placed under)."""
    if facts is None:
        return (await customer_orders(c, session, [order]))[0]
    if cash_enabled is None:
        cash_enabled = (await _cash_enabled(session, [order]))[order.customer_id]
    return customer_order_out(order, facts, cash_enabled)


def customer_order_out(order: Order, facts: PaymentFacts, cash_enabled: bool) -> OrderOut:
    return OrderOut(
        **_fields(order),
        # The checkout is shown only while the order waits for it.
        payment=facts.payment if awaits_upi_payment(order) else None,
        refund=facts.refund,
        actions=customer_actions(order, payable=facts.payable, cash_enabled=cash_enabled),
    )


def kitchen_order_out(order: Order, customer: User, actor: Actor, now: datetime) -> KitchenOrderOut:
    return KitchenOrderOut(**_kitchen_fields(order, customer, actor, now))


def kitchen_order_detail(
    order: Order, customer: User, actor: Actor, now: datetime, events: list[Event]
) -> KitchenOrderDetail:
    return KitchenOrderDetail(
        **_kitchen_fields(order, customer, actor, now),
        events=[
            OrderEventOut(
                id=e.id,
                seq=e.seq,
                type=e.type,
                status=e.status,
                payment_status=e.payment_status,
                actor_id=e.actor_id,
                data=e.data,
                at=e.created_at,
            )
            for e in events
        ],
    )


def _kitchen_fields(order: Order, customer: User, actor: Actor, now: datetime) -> dict[str, object]:
    fields = _fields(order)
    # The kitchen checks the customer's code at handover; it never reads it off the screen.
    fields["pickup_code"] = "****"
    fields["customer"] = CustomerSummary(id=customer.id, name=customer.name, phone=customer.phone)
    fields["allowed_next"] = allowed_next(order, actor)
    fields["age_seconds"] = max(0, int((now - order.created_at).total_seconds()))
    return fields


def _fields(order: Order) -> dict[str, object]:
    feedback = None
    if order.feedback_rating is not None and order.feedback_at is not None:
        feedback = FeedbackOut(
            rating=order.feedback_rating,
            comment=order.feedback_comment,
            created_at=order.feedback_at,
        )
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "payment_method": order.payment_method,
        "payment_status": order.payment_status,
        "order_type": order.order_type,
        "delivery_address": order.delivery_address,
        "time_slot": order.time_slot,
        "instructions": order.instructions,
        "items": [OrderLineOut.model_validate(line) for line in order.items],
        "subtotal": order.subtotal,
        "delivery_fee": order.delivery_fee,
        "total": order.total,
        "currency": order.currency,
        "pickup_code": order.pickup_code,
        "estimated_ready_at": order.estimated_ready_at,
        "pickup_window_start": order.pickup_window_start,
        "pickup_window_end": order.pickup_window_end,
        "cancel_reason": order.cancel_reason,
        "cancelled_by": order.cancelled_by,
        "delivery_staff_id": order.delivery_staff_id,
        "feedback": feedback,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }
