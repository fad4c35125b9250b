"""Order-status push content (design §9.3): pure functions, no I/O."""

from __future__ import annotations

import pytest

from canteen.notifications.push import CLICK_ACTION, PushMessage, order_status_message

NUMBER = "ORD-20260213-042"
ORDER_ID = "6f1c3c2e-6b0a-4c8e-9f57-0a1b2c3d4e5f"
NOTIFIED = ("confirmed", "preparing", "ready", "out_for_delivery", "completed", "cancelled")


def test_ready_pickup_is_the_design_example_exactly() -> None:
    content = order_status_message(NUMBER, ORDER_ID, "ready", "pickup")

    assert content.title == "Order Ready! 🎉"
    assert content.body == "Your order #ORD-20260213-042 is ready for pickup"
    assert content.data == {
        "type": "order_status",
        "order_id": ORDER_ID,
        "status": "ready",
        "click_action": "ORDER_TRACKING",
    }
    title, body, data = content  # also usable as a plain (title, body, data) tuple
    assert (title, body, data) == (content.title, content.body, content.data)


@pytest.mark.parametrize(
    ("status", "order_type", "title", "body"),
    [
        (
            "confirmed",
            "pickup",
            "Order Confirmed 👍",
            f"Your order #{NUMBER} has been confirmed and sent to the kitchen",
        ),
        (
            "preparing",
            "delivery",
            "Preparing Your Order 👨‍🍳",
            f"The kitchen has started preparing your order #{NUMBER}",
        ),
        ("ready", "pickup", "Order Ready! 🎉", f"Your order #{NUMBER} is ready for pickup"),
        (
            "ready",
            "delivery",
            "Order Ready! 🎉",
            f"Your order #{NUMBER} is ready and will be on its way shortly",
        ),
        (
            "out_for_delivery",
            "delivery",
            "Out for Delivery 🛵",
            f"Your order #{NUMBER} is on its way",
        ),
        (
            "completed",
            "delivery",
            "Order Delivered! ✅",
            f"Your order #{NUMBER} has been delivered. Enjoy your meal!",
        ),
        (
            "completed",
            "pickup",
            "Enjoy Your Meal! 😋",
            f"Your order #{NUMBER} has been picked up. Thanks for ordering!",
        ),
        ("cancelled", "pickup", "Order Cancelled", f"Your order #{NUMBER} has been cancelled"),
        ("cancelled", "delivery", "Order Cancelled", f"Your order #{NUMBER} has been cancelled"),
    ],
)
def test_title_and_body_per_status(status: str, order_type: str, title: str, body: str) -> None:
    content = order_status_message(NUMBER, ORDER_ID, status, order_type)

    assert (content.title, content.body) == (title, body)
    assert content.data["status"] == status


@pytest.mark.parametrize("order_type", ["pickup", "delivery"])
@pytest.mark.parametrize("status", NOTIFIED)
def test_data_is_the_section_9_3_map_of_strings(status: str, order_type: str) -> None:
    content = order_status_message(NUMBER, ORDER_ID, status, order_type)

    assert content.data == {
        "type": "order_status",
        "order_id": ORDER_ID,
        "status": status,
        "click_action": CLICK_ACTION,
    }
    assert CLICK_ACTION == "ORDER_TRACKING"
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in content.data.items())
    assert content.title and content.body
    assert f"#{NUMBER}" in content.body
    # Well inside FCM's 4096-byte payload limit.
    assert len((content.title + content.body + str(content.data)).encode()) < 1024


def test_every_status_reads_differently_for_the_customer() -> None:
    pickup = {order_status_message(NUMBER, ORDER_ID, s, "pickup").body for s in NOTIFIED}
    assert len(pickup) == len(NOTIFIED)


def test_data_values_are_strings_even_for_non_string_ids() -> None:
    import uuid

    order_id = uuid.UUID(ORDER_ID)
    content = order_status_message(NUMBER, order_id, "ready", "pickup")  # type: ignore[arg-type]
    assert content.data["order_id"] == ORDER_ID


@pytest.mark.parametrize("status", ["received", "unknown", ""])
def test_statuses_without_a_notification_are_refused(status: str) -> None:
    with pytest.raises(ValueError, match="no push notification"):
        order_status_message(NUMBER, ORDER_ID, status, "pickup")


def test_unknown_order_type_is_refused() -> None:
    with pytest.raises(ValueError, match="order type"):
        order_status_message(NUMBER, ORDER_ID, "ready", "drone")


def test_push_message_refuses_non_string_data_and_empty_tokens() -> None:
    with pytest.raises(ValueError, match="str to str"):
        PushMessage(token="t", title="x", body="y", data={"n": 1})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="token"):
        PushMessage(token="", title="x", body="y")
