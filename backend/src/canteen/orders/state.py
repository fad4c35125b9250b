"""The one order state machine (product.md, "Order lifecycle").

received → confirmed → preparing → ready → (out_for_delivery →) completed, and cancelled.
Every status change in the system goes through `check_transition`; the rules that depend
on who is asking live here too, so the API, the portal and the jobs cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from canteen.core.errors import Conflict
from canteen.orders.models import Order, OrderStatus, OrderType, PaymentMethod, PaymentStatus

S = OrderStatus


class Actor(StrEnum):
    customer = "customer"
    kitchen = "kitchen"
    admin = "admin"
    delivery = "delivery"
    system = "system"  # payment confirmation, timeouts


# The graph itself; who may take each edge is decided in `_permitted`.
TRANSITIONS: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    S.received: (S.confirmed, S.cancelled),
    S.confirmed: (S.preparing, S.cancelled),
    S.preparing: (S.ready, S.cancelled),
    S.ready: (S.out_for_delivery, S.completed, S.cancelled),
    S.out_for_delivery: (S.completed, S.cancelled),
    S.completed: (),
    S.cancelled: (),
}

TERMINAL = frozenset({S.completed, S.cancelled})
CUSTOMER_CANCELLABLE = frozenset({S.received, S.confirmed})
ACTIVE = frozenset({S.received, S.confirmed, S.preparing, S.ready, S.out_for_delivery})


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def _permitted(order: Order, target: OrderStatus, actor: Actor) -> Refusal | None:
    """Why `actor` may not move `order` to `target` along an existing edge, or None."""
    staff = actor in (Actor.kitchen, Actor.admin)
    if target == S.confirmed:
        # Only a verified payment confirms a UPI order; cash orders start confirmed.
        if actor != Actor.system:
            return Refusal("INVALID_TRANSITION", "Orders are confirmed by their payment")
    elif target == S.preparing:
        if not staff:
            return Refusal("INSUFFICIENT_ROLE", "Only the kitchen starts preparing an order")
        if (
            order.payment_method == PaymentMethod.upi
            and order.payment_status != PaymentStatus.captured
        ):
            return Refusal("PAYMENT_PENDING", "This UPI order has not been paid yet")
    elif target == S.ready:
        if not staff:
            return Refusal("INSUFFICIENT_ROLE", "Only the kitchen marks an order ready")
    elif target == S.out_for_delivery:
        if order.order_type != OrderType.delivery:
            return Refusal("INVALID_TRANSITION", "Only delivery orders go out for delivery")
        if order.delivery_staff_id is None:
            return Refusal("DELIVERY_NOT_ASSIGNED", "Assign a delivery staff member first")
        if actor not in (Actor.kitchen, Actor.admin, Actor.delivery):
            return Refusal("INSUFFICIENT_ROLE", "Only staff dispatch an order")
    elif target == S.completed:
        if order.order_type == OrderType.delivery and order.status != S.out_for_delivery:
            return Refusal("INVALID_TRANSITION", "A delivery order is completed after it goes out")
        if actor not in (Actor.kitchen, Actor.admin, Actor.delivery):
            return Refusal("INSUFFICIENT_ROLE", "Only staff complete an order")
    elif target == S.cancelled:
        if actor == Actor.customer and order.status not in CUSTOMER_CANCELLABLE:
            return Refusal(
                "INVALID_TRANSITION",
                "The kitchen has started this order; it can no longer be cancelled",
            )
        if actor == Actor.delivery:
            return Refusal("INSUFFICIENT_ROLE", "Delivery staff cannot cancel orders")
    return None


def allowed_next(order: Order, actor: Actor) -> list[str]:
    current = OrderStatus(order.status)
    return [t.value for t in TRANSITIONS[current] if _permitted(order, t, actor) is None]


def check_transition(order: Order, target: OrderStatus, actor: Actor) -> None:
    current = OrderStatus(order.status)
    details = [
        {
            "field": "status",
            "current": current.value,
            "requested": target.value,
            "allowed": allowed_next(order, actor),
        }
    ]
    awaiting_payment = (
        current == S.received
        and order.payment_method == PaymentMethod.upi
        and order.payment_status != PaymentStatus.captured
    )
    if target == S.preparing and awaiting_payment:
        # The kitchen's most likely mistake: say what is missing, not just "invalid".
        raise Conflict(
            "This UPI order has not been paid yet", code="PAYMENT_PENDING", details=details
        )
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            f"An order that is {current.value} cannot become {target.value}", details=details
        )
    refusal = _permitted(order, target, actor)
    if refusal is not None:
        raise Conflict(
            refusal.message,
            code=refusal.code if refusal.code != "INSUFFICIENT_ROLE" else "INVALID_TRANSITION",
            details=details,
        )
