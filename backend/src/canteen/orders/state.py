"""The one order state machine (product.md, "Order lifecycle").

received → confirmed → preparing → ready → (out_for_delivery →) completed, and cancelled;
a pickup order left ready past the collection window becomes not_collected (the sweep in
`orders.no_shows`).
Every status change in the system goes through `check_transition`; the rules that depend
on who is asking live here too, so the API, the portal and the jobs cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from canteen.core.errors import Conflict, field_error
from canteen.orders.errors import DeliveryNotAssigned, InvalidTransition, PaymentPending
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
    S.ready: (S.out_for_delivery, S.completed, S.cancelled, S.not_collected),
    S.out_for_delivery: (S.completed, S.cancelled),
    S.completed: (),
    S.cancelled: (),
    S.not_collected: (),
}

TERMINAL = frozenset({S.completed, S.cancelled, S.not_collected})
CUSTOMER_CANCELLABLE = frozenset({S.received, S.confirmed})
ACTIVE = frozenset({S.received, S.confirmed, S.preparing, S.ready, S.out_for_delivery})


@dataclass(frozen=True)
class Refusal:
    # A refusal for the actor's role is an INVALID_TRANSITION on the wire too.
    error: type[InvalidTransition | PaymentPending | DeliveryNotAssigned]
    message: str


def _permitted(order: Order, target: OrderStatus, actor: Actor) -> Refusal | None:
    """Why `actor` may not move `order` to `target` along an existing edge, or None."""
    staff = actor in (Actor.kitchen, Actor.admin)
    if target == S.confirmed:
        # Only a verified payment confirms a UPI order; cash orders start confirmed.
        if actor != Actor.system:
            return Refusal(InvalidTransition, "Orders are confirmed by their payment")
    elif target == S.preparing:
        if not staff:
            return Refusal(InvalidTransition, "Only the kitchen starts preparing an order")
        if (
            order.payment_method == PaymentMethod.upi
            and order.payment_status != PaymentStatus.captured
        ):
            return Refusal(PaymentPending, "This UPI order has not been paid yet")
    elif target == S.ready:
        if not staff:
            return Refusal(InvalidTransition, "Only the kitchen marks an order ready")
    elif target == S.out_for_delivery:
        if order.order_type != OrderType.delivery:
            return Refusal(InvalidTransition, "Only delivery orders go out for delivery")
        if order.delivery_staff_id is None:
            return Refusal(DeliveryNotAssigned, "Assign a delivery staff member first")
        if actor not in (Actor.kitchen, Actor.admin, Actor.delivery):
            return Refusal(InvalidTransition, "Only staff dispatch an order")
    elif target == S.completed:
        if order.order_type == OrderType.delivery and order.status != S.out_for_delivery:
            return Refusal(InvalidTransition, "A delivery order is completed after it goes out")
        if actor not in (Actor.kitchen, Actor.admin, Actor.delivery):
            return Refusal(InvalidTransition, "Only staff complete an order")
    elif target == S.cancelled:
        if actor == Actor.customer and order.status not in CUSTOMER_CANCELLABLE:
            return Refusal(
                InvalidTransition,
                "The kitchen has started this order; it can no longer be cancelled",
            )
        if actor == Actor.delivery:
            return Refusal(InvalidTransition, "Delivery staff cannot cancel orders")
    elif target == S.not_collected:
        # Only the sweep decides it, when the collection window has passed.
        if actor != Actor.system:
            return Refusal(InvalidTransition, "Orders become not collected when their window ends")
        if order.order_type != OrderType.pickup:
            return Refusal(InvalidTransition, "Only pickup orders wait to be collected")
    return None


def allowed_next(order: Order, actor: Actor) -> list[str]:
    current = OrderStatus(order.status)
    return [t.value for t in TRANSITIONS[current] if _permitted(order, t, actor) is None]


def check_transition(order: Order, target: OrderStatus, actor: Actor) -> None:
    current = OrderStatus(order.status)

    def details(error: type[Conflict]) -> list[dict[str, object]]:
        return [
            field_error(
                "status",
                error.code.lower(),
                current=current.value,
                requested=target.value,
                allowed=allowed_next(order, actor),
            )
        ]

    awaiting_payment = (
        current == S.received
        and order.payment_method == PaymentMethod.upi
        and order.payment_status != PaymentStatus.captured
    )
    if target == S.preparing and awaiting_payment:
        # The kitchen's most likely mistake: say what is missing, not just "invalid".
        raise PaymentPending(details=details(PaymentPending))
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            f"An order that is {current.value} cannot become {target.value}",
            details=details(InvalidTransition),
        )
    refusal = _permitted(order, target, actor)
    if refusal is not None:
        raise refusal.error(refusal.message, details=details(refusal.error))
