"""The payments domain's errors: one class per code (the wire shape is core.errors')."""

from __future__ import annotations

from canteen.core.errors import AppError, Conflict

# One class per code: placement refuses a switched-off method too, and orders imports
# nothing of payments, so the class lives in orders' errors.
from canteen.orders.errors import PaymentMethodDisabled

__all__ = [
    "AlreadyRefunded",
    "OrderNotPaid",
    "PaymentGatewayUnavailable",
    "PaymentMethodDisabled",
    "PaymentNotRetryable",
    "PaymentNotStarted",
    "PaymentSignatureInvalid",
]


class PaymentSignatureInvalid(AppError):
    status_code = 400
    code = "PAYMENT_SIGNATURE_INVALID"
    message = "The payment signature does not match this order"


class PaymentGatewayUnavailable(AppError):
    status_code = 503
    code = "PAYMENT_GATEWAY_UNAVAILABLE"
    message = "The payment service is not answering; try again in a moment"


class PaymentNotStarted(Conflict):
    code = "PAYMENT_NOT_STARTED"
    message = "No payment has been started for this order"


class PaymentNotRetryable(Conflict):
    code = "PAYMENT_NOT_RETRYABLE"
    message = "This order is not waiting for a UPI payment"


class OrderNotPaid(Conflict):
    code = "ORDER_NOT_PAID"
    message = "This order has no captured UPI payment to refund"


class AlreadyRefunded(Conflict):
    code = "ALREADY_REFUNDED"
    message = "This order's payment has already been refunded"
