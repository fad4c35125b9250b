"""Provider-neutral push types and the order-status notification content (design §9.3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

# What the consumer app navigates to when the notification is tapped (design §9.3).
CLICK_ACTION = "ORDER_TRACKING"


@dataclass(frozen=True)
class PushMessage:
    token: str  # the device's registration token
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # FCM only carries string data (a non-string value is rejected, integrations.md §2);
        # refusing it here keeps one bad message from failing a whole batch later.
        if not self.token:
            raise ValueError("PushMessage.token must not be empty")
        for key, value in self.data.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"PushMessage.data must map str to str, got {key!r}: {value!r}")


@dataclass(frozen=True)
class PushResult:
    token: str
    ok: bool
    message_id: str | None = None
    error: str | None = None
    # The provider says this token will never work again: delete it.
    token_invalid: bool = False
    # A transient failure (throttling, outage, network): sending again later can succeed.
    retryable: bool = False


class PushProvider(Protocol):
    name: str

    async def send_many(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        """Send each message; one result per message, in order. Never raises for a
        per-message failure: those are reported in the results."""
        ...


class PushContent(NamedTuple):
    title: str
    body: str
    data: dict[str, str]


def order_status_message(
    order_number: str, order_id: str, status: str, order_type: str
) -> PushContent:
    """Title, body and data of the push sent when an order reaches `status`.

    `data` is exactly the §9.3 map (all strings); the app routes on `click_action`.
    Raises ValueError for a status that is not notified or an unknown order type.
    """
    if order_type not in ("pickup", "delivery"):
        raise ValueError(f"unknown order type {order_type!r}")
    delivery = order_type == "delivery"
    ref = f"#{order_number}"
    match status:
        case "confirmed":
            title = "Order Confirmed 👍"
            body = f"Your order {ref} has been confirmed and sent to the kitchen"
        case "preparing":
            title = "Preparing Your Order 👨‍🍳"
            body = f"The kitchen has started preparing your order {ref}"
        case "ready" if delivery:
            title = "Order Ready! 🎉"
            body = f"Your order {ref} is ready and will be on its way shortly"
        case "ready":
            title = "Order Ready! 🎉"
            body = f"Your order {ref} is ready for pickup"
        case "out_for_delivery":
            title = "Out for Delivery 🛵"
            body = f"Your order {ref} is on its way"
        case "completed" if delivery:
            title = "Order Delivered! ✅"
            body = f"Your order {ref} has been delivered. Enjoy your meal!"
        case "completed":
            title = "Enjoy Your Meal! 😋"
            body = f"Your order {ref} has been picked up. Thanks for ordering!"
        case "cancelled":
            title = "Order Cancelled"
            body = f"Your order {ref} has been cancelled"
        case "not_collected":
            title = "Order Not Collected"
            body = f"Your order {ref} was not collected in time"
        case _:
            raise ValueError(f"no push notification for order status {status!r}")
    data = {
        "type": "order_status",
        "order_id": str(order_id),
        "status": str(status),
        "click_action": CLICK_ACTION,
    }
    return PushContent(title, body, data)


def collection_reminder_message(order_number: str, order_id: str, minutes_left: int) -> PushContent:
    """The reminder sent five minutes before a ready pickup order's window closes."""
    unit = "minute" if minutes_left == 1 else "minutes"
    data = {
        "type": "collection_reminder",
        "order_id": str(order_id),
        "status": "ready",
        "click_action": CLICK_ACTION,
    }
    return PushContent(
        "Your order is waiting ⏰",
        f"Collect your order #{order_number} within {minutes_left} {unit}, "
        "or it will be marked not collected",
        data,
    )
