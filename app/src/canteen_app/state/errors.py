"""What the app shows for each failure (integration design §11.2), as plain data.

`action_for(error)` maps any `CanteenError` the SDK raises to a `UiAction`: the screen
decides how to draw it (dialog, banner, toast, field errors), never what it means.

| failure                              | action                                            |
|--------------------------------------|---------------------------------------------------|
| 400 VALIDATION_ERROR (and other 400) | FIELD_ERRORS: errors next to the fields           |
| 401 signed out (INVALID_TOKEN, ...)  | SIGN_IN_AGAIN: dialog, then the login screen      |
| 403                                  | ACCESS_DENIED: toast                              |
| 404                                  | NOT_FOUND: "not found" message                    |
| 409 ITEM_UNAVAILABLE                 | REMOVE_UNAVAILABLE: dialog "remove and continue"  |
| 409 RESTAURANT_CLOSED                | CLOSED: full-screen "closed"                      |
| 409 ORDERING_PAUSED                  | WAIT_AND_RETRY: dialog "wait and retry"           |
| 409 others                           | CONFLICT: message (settings are re-read)          |
| 429                                  | RATE_LIMITED: "try again in N seconds"            |
| 5xx                                  | RETRY: "something went wrong" + retry             |
| no network                           | OFFLINE: offline banner + retry                   |

(401 TOKEN_EXPIRED never reaches the app: the SDK refreshes and retries.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from canteen_client import (
    ApiFailure,
    AuthFailure,
    CanteenError,
    ConflictFailure,
    NetworkFailure,
    NotFoundFailure,
    RateLimitFailure,
    ServerFailure,
    UnavailableItem,
    ValidationFailure,
)


class ActionKind(StrEnum):
    FIELD_ERRORS = "field_errors"
    SIGN_IN_AGAIN = "sign_in_again"
    ACCESS_DENIED = "access_denied"
    NOT_FOUND = "not_found"
    REMOVE_UNAVAILABLE = "remove_unavailable"
    CLOSED = "closed"
    WAIT_AND_RETRY = "wait_and_retry"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    PRICE_CHANGED = "price_changed"
    RETRY = "retry"
    OFFLINE = "offline"


REASONS = {
    "not_found": "is no longer on the menu",
    "unavailable": "is not available right now",
    "not_in_time_slot": "is not served in this time slot",
    "out_of_stock": "is sold out",
}


@dataclass(frozen=True)
class UiAction:
    kind: ActionKind
    title: str
    message: str
    code: str | None = None
    field_errors: dict[str, str] = field(default_factory=dict)
    unavailable: list[UnavailableItem] = field(default_factory=list)
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in (
            ActionKind.RETRY,
            ActionKind.OFFLINE,
            ActionKind.WAIT_AND_RETRY,
            ActionKind.RATE_LIMITED,
        )


def describe_unavailable(item: UnavailableItem, names: dict[str, str] | None = None) -> str:
    name = item.name or (names or {}).get(item.menu_item_id) or "An item"
    text = f"{name} {REASONS.get(item.reason, 'is not available')}"
    if item.reason == "out_of_stock" and item.available:
        text += f" (only {item.available} left)"
    return text


def _rupees(paise: int) -> str:
    rupees, rest = divmod(paise, 100)
    return f"₹{rupees:,}" if rest == 0 else f"₹{rupees:,}.{rest:02d}"


def describe_price_change(error: ConflictFailure, names: dict[str, str] | None = None) -> str:
    """ "Masala Dosa: ₹90 → ₹95" per changed line, then the new total."""
    lines = [
        f"{c.name or (names or {}).get(c.menu_item_id) or 'A dish'}: "
        f"{_rupees(c.old_price)} → {_rupees(c.new_price)}"
        for c in error.price_changes
    ]
    total = error.total_change
    if total is not None:
        lines.append(f"New total: {_rupees(total.new_total)} (was {_rupees(total.old_total)})")
    return "\n".join(lines) or error.message


def action_for(error: CanteenError, names: dict[str, str] | None = None) -> UiAction:
    """The UI action for `error`; `names` maps menu item ids to names for messages."""
    if isinstance(error, NetworkFailure):
        return UiAction(
            ActionKind.OFFLINE,
            "No connection",
            "You seem to be offline. Check your connection and try again.",
        )
    if not isinstance(error, ApiFailure):
        return UiAction(ActionKind.RETRY, "Something went wrong", error.message)
    code = error.code
    if isinstance(error, ValidationFailure):
        return UiAction(
            ActionKind.FIELD_ERRORS,
            "Please check your details",
            error.message,
            code=code,
            field_errors=error.field_errors,
        )
    if isinstance(error, AuthFailure):
        if error.status == 401 or error.signed_out:
            return UiAction(
                ActionKind.SIGN_IN_AGAIN,
                "Please sign in again",
                "Your session has ended. Sign in again to continue.",
                code=code,
            )
        return UiAction(
            ActionKind.ACCESS_DENIED, "Access denied", "Access denied: " + error.message, code=code
        )
    if isinstance(error, NotFoundFailure):
        return UiAction(ActionKind.NOT_FOUND, "Not found", "Item not found.", code=code)
    if isinstance(error, ConflictFailure):
        if code == "ITEM_UNAVAILABLE":
            items = error.unavailable_items
            lines = [describe_unavailable(i, names) for i in items]
            return UiAction(
                ActionKind.REMOVE_UNAVAILABLE,
                "Some items are not available",
                "\n".join(lines) or error.message,
                code=code,
                unavailable=items,
            )
        if code == "RESTAURANT_CLOSED":
            return UiAction(
                ActionKind.CLOSED,
                "The canteen is closed",
                "The canteen is not taking orders right now. Please come back later.",
                code=code,
            )
        if code == "ORDERING_PAUSED":
            return UiAction(
                ActionKind.WAIT_AND_RETRY,
                "Orders are paused",
                "The kitchen is busy and has paused new orders. Wait a few minutes and try again.",
                code=code,
            )
        if code == "PRICE_CHANGED":
            return UiAction(
                ActionKind.PRICE_CHANGED,
                "Prices have changed",
                describe_price_change(error, names),
                code=code,
            )
        if code == "SLOT_FULL":
            ends = next((d for d in error.details if d.get("issue") == "ends_too_soon"), None)
            if ends is not None:  # not full: too late in the slot for this order
                ending = str(ends.get("message") or "This slot ends soon")
                return UiAction(
                    ActionKind.CONFLICT,
                    "Too late for this slot",
                    f"{ending}, before your order could be ready. Choose another slot.",
                    code=code,
                )
            windows = [str(d["window"]) for d in error.details if d.get("window")]
            return UiAction(
                ActionKind.CONFLICT,
                "The kitchen is full then",
                "Next windows with room: " + ", ".join(windows)
                if windows
                else "No window in this slot has room left. Choose another slot.",
                code=code,
            )
        if code == "ORDER_TOO_LARGE":
            said = [x.message for x in error.limits if x.message]
            return UiAction(
                ActionKind.CONFLICT,
                "Your order is too large",
                ". ".join(said) + "." if said else error.message,
                code=code,
            )
        return UiAction(ActionKind.CONFLICT, "Could not do that", error.message, code=code)
    if isinstance(error, RateLimitFailure):
        seconds = max(1, math.ceil(error.retry_after))
        return UiAction(
            ActionKind.RATE_LIMITED,
            "Too many tries",
            f"Try again in {seconds} seconds.",
            code=code,
            retry_after=float(seconds),
        )
    if isinstance(error, ServerFailure):
        return UiAction(
            ActionKind.RETRY, "Something went wrong", "Something went wrong. Try again.", code=code
        )
    return UiAction(ActionKind.RETRY, "Something went wrong", error.message, code=code)
