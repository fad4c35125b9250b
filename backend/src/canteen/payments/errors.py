"""The payments domain's errors: one class per code (the wire shape is core.errors')."""

from __future__ import annotations

from canteen.core.errors import AppError, Conflict


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


class PaymentMethodDisabled(Conflict):
    code = "PAYMENT_METHOD_DISABLED"
    message = "Paying by cash is not available right now"


class OrderNotPaid(Conflict):
    code = "ORDER_NOT_PAID"
    message = "This order has no captured UPI payment to refund"


class AlreadyRefunded(Conflict):
    code = "ALREADY_REFUNDED"
    message = "This order's payment has already been refunded"
