"""Order fields the app reads for a failed payment and a cancelled order, and that an
older server's answer (without them) still reads."""

from __future__ import annotations

from canteen_client import Order

BASE = {
    "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "number": "ORD-20260105-001",
    "status": "cancelled",
    "payment_method": "upi",
    "payment_status": "captured",
    "order_type": "pickup",
    "items": [],
    "subtotal": 9000,
    "total": 9000,
    "created_at": "2026-01-05T06:30:00+00:00",
    "updated_at": "2026-01-05T06:31:00+00:00",
}


def test_refund_cancelled_by_and_the_payments_state() -> None:
    order = Order.from_json(
        {
            **BASE,
            "cancelled_by": "kitchen",
            "cancel_reason": "The oven broke down",
            "refund": {"status": "pending", "amount": 9000, "reason": "The oven broke down"},
            "payment": {
                "gateway": "razorpay",
                "key_id": "rzp_test",
                "gateway_order_id": "order_1",
                "amount": 9000,
                "currency": "INR",
                "checkout_url": "http://x/checkout/order_1",
                "status": "failed",
                "failure_reason": "Payment declined by the bank",
            },
        }
    )
    assert order.cancelled_by == "kitchen"
    assert order.refund is not None and (order.refund.status, order.refund.amount) == (
        "pending",
        9000,
    )
    assert order.payment is not None
    assert (order.payment.status, order.payment.failure_reason) == (
        "failed",
        "Payment declined by the bank",
    )


def test_an_older_servers_order_still_reads() -> None:
    order = Order.from_json(BASE)
    assert order.refund is None and order.cancelled_by is None and order.payment is None
