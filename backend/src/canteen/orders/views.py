"""Orders as the API shows them."""

from __future__ import annotations

from datetime import datetime

from canteen.events.models import Event
from canteen.orders.models import Order
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


def order_out(order: Order) -> OrderOut:
    return OrderOut(**_fields(order))


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
        "cancel_reason": order.cancel_reason,
        "cancelled_by": order.cancelled_by,
        "delivery_staff_id": order.delivery_staff_id,
        "feedback": feedback,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }
