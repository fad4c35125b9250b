"""What the customer may do with their order now: the `actions` of the customer's order.

The same rules the endpoints enforce (the state machine in `orders.state`, the payment
checks in `canteen.payments.checkout`), so the app and the portal show a button exactly
when pressing it is accepted, and keep no copy of the rules.
"""

from __future__ import annotations

from enum import StrEnum

from canteen.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from canteen.orders.state import Actor, allowed_next


class CustomerAction(StrEnum):
    cancel = "cancel"  # POST /orders/{id}/cancel
    pay = "pay"  # the checkout of `payment`, then POST /payments/verify
    retry_payment = "retry_payment"  # POST /orders/{id}/payment/retry
    switch_to_cash = "switch_to_cash"  # POST /orders/{id}/payment/switch-to-cash
    feedback = "feedback"  # POST /orders/{id}/feedback


def awaits_upi_payment(order: Order) -> bool:
    """A UPI order the kitchen may not start until it is paid."""
    return (
        order.payment_method == PaymentMethod.upi
        and order.status == OrderStatus.received
        and order.payment_status != PaymentStatus.captured
    )


def customer_actions(order: Order, *, payable: bool, cash_enabled: bool) -> list[CustomerAction]:
    """`payable`: the order has a gateway order the customer can pay on (payments decides:
    one was created and is neither paid nor abandoned; it stays open after a decline)."""
    actions: list[CustomerAction] = []
    if OrderStatus.cancelled.value in allowed_next(order, Actor.customer):
        actions.append(CustomerAction.cancel)
    if awaits_upi_payment(order):
        if payable:
            actions.append(CustomerAction.pay)
        actions.append(CustomerAction.retry_payment)
        if cash_enabled:
            actions.append(CustomerAction.switch_to_cash)
    if order.status == OrderStatus.completed and order.feedback_rating is None:
        actions.append(CustomerAction.feedback)
    return actions
