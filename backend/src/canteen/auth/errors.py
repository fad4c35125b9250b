"""The auth domain's errors: one class per code (design §11.2)."""

from __future__ import annotations

from canteen.core.errors import AppError


class InvalidOtp(AppError):
    """A wrong code; `details` says how many tries are left."""

    status_code = 400
    code = "INVALID_OTP"
    message = "That code is not right"


class OtpExpired(AppError):
    """No live code for the phone: it expired, was never sent, or has been used."""

    status_code = 400
    code = "OTP_EXPIRED"
    message = "The code has expired or was never sent; ask for a new one"


class OtpAttemptsExceeded(AppError):
    status_code = 400
    code = "OTP_ATTEMPTS_EXCEEDED"
    message = "Too many wrong codes. Ask for a new one."


class AccountDisabled(AppError):
    status_code = 403
    code = "ACCOUNT_DISABLED"
    message = "This account has been deactivated; contact the canteen manager"


class StaffUsePassword(AppError):
    """The customer OTP flow never yields a staff role (product.md, Roles).

    Phones are unique per account, so a staff phone cannot also hold a customer
    identity: the flow refuses, and says where staff sign in.
    """

    status_code = 403
    code = "STAFF_USE_PASSWORD"
    message = (
        "This number belongs to a staff account. Staff sign in on the kitchen portal with "
        "their password; to order food, sign in with a different phone number."
    )
