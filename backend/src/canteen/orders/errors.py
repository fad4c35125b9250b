"""The orders domain's errors: one class per code (the wire shape is core.errors')."""

from __future__ import annotations

from canteen.core.errors import Conflict, NotFound, field_error


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


class OrderNotCollected(Conflict):
    # The counter's answer for a code whose order passed its collection window (issue 16):
    # saying so beats "not found" to a student standing there with the code.
    code = "ORDER_NOT_COLLECTED"

    @classmethod
    def at_counter(cls, number: str, ready_at: str | None) -> OrderNotCollected:
        when = f" (ready at {ready_at})" if ready_at else ""
        return cls(
            f"Order {number} was not collected in time{when}; it can no longer be handed over here",
            details=[
                field_error(
                    "code",
                    "not_collected",
                    order_number=number,
                    status="not_collected",
                    ready_at=ready_at,
                )
            ],
        )


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


# The canteen's switches (Settings), checked before anything of the order is read.
class RestaurantClosed(Conflict):
    code = "RESTAURANT_CLOSED"
    message = "The canteen is closed right now"


class OrderingPaused(Conflict):
    code = "ORDERING_PAUSED"
    message = "The kitchen has paused new orders for a few minutes; try again soon"


class DeliveryDisabled(Conflict):
    code = "DELIVERY_DISABLED"
    message = "Delivery is not available right now"

    @classmethod
    def now(cls) -> DeliveryDisabled:
        return cls(details=[field_error("order_type", "disabled", value="delivery")])


class PaymentMethodDisabled(Conflict):
    # Here rather than in payments: placement refuses it too, and orders imports nothing
    # of payments (payments.errors re-exports it for switch-to-cash).
    code = "PAYMENT_METHOD_DISABLED"
    message = "Paying by cash is not available right now"

    @classmethod
    def for_method(cls, method: str) -> PaymentMethodDisabled:
        return cls(
            f"Paying by {method.upper()} is not available right now",
            details=[field_error("payment_method", "disabled", value=method)],
        )
