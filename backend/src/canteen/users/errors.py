"""The users domain's errors: one class per code (design §11.2)."""

from __future__ import annotations

from canteen.core.errors import Conflict


class PhoneTaken(Conflict):
    """`details` names the account that has the number."""

    code = "PHONE_TAKEN"
    message = "An account with this phone number already exists"


class CannotChangeOwnAccount(Conflict):
    code = "CANNOT_CHANGE_OWN_ACCOUNT"
    message = "You cannot deactivate or demote your own account"
