"""The orders domain's errors: one class per code (the wire shape is core.errors')."""

from __future__ import annotations

from canteen.core.errors import Conflict, NotFound


class OrderNotFound(NotFound):
    # "Not yours" and "does not exist" read alike, so order ids cannot be probed.
    message = "No such order"


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"


class PaymentPending(Conflict):
    code = "PAYMENT_PENDING"
    message = "This UPI order has not been paid yet"


class DeliveryNotAssigned(Conflict):
    code = "DELIVERY_NOT_ASSIGNED"
    message = "Assign a delivery staff member first"


class PickupCodeMismatch(Conflict):
    code = "PICKUP_CODE_MISMATCH"
    message = "The pickup code does not match this order"


class NotADeliveryOrder(Conflict):
    code = "NOT_A_DELIVERY_ORDER"
    message = "Only delivery orders are assigned to delivery staff"


class OrderNotCompleted(Conflict):
    code = "ORDER_NOT_COMPLETED"
    message = "Feedback opens once the order is completed"


class FeedbackExists(Conflict):
    code = "FEEDBACK_EXISTS"
    message = "Feedback for this order was already given"


class CashNotAllowed(Conflict):
    code = "CASH_NOT_ALLOWED"
    message = "Cash is not available for this account; pay by UPI"
