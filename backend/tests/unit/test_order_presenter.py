"""The one presenter of the customer's order (issue 15): the payment only while it is
awaited, the refund whenever there is one, and the actions of the order's state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from canteen.orders.models import Order, OrderStatus, OrderType, PaymentMethod, PaymentStatus
from canteen.orders.ports import NO_PAYMENT, PaymentFacts
from canteen.orders.presenter import customer_order_out
from canteen.orders.schemas import OrderOut, PaymentInfo, RefundOut

NOW = datetime(2026, 2, 13, 12, 0, tzinfo=UTC)
PAYMENT = PaymentInfo(
    gateway="razorpay",
    key_id="rzp_test",
    gateway_order_id="order_1",
    amount=9000,
    currency="INR",
    checkout_url="http://sandbox/checkout/order_1",
    status="created",
)
REFUND = RefundOut(status="pending", amount=9000, reason="cancelled by customer")


def order(status: OrderStatus, payment_status: PaymentStatus) -> Order:
    return Order(
        id=uuid.uuid4(),
        number="ORD-20260213-001",
        status=status.value,
        payment_method=PaymentMethod.upi.value,
        payment_status=payment_status.value,
        order_type=OrderType.pickup.value,
        subtotal=9000,
        delivery_fee=0,
        total=9000,
        currency="INR",
        pickup_code="1234",
        items=[],
        created_at=NOW,
        updated_at=NOW,
    )


def test_an_awaited_payment_is_shown_with_what_to_do():
    view = customer_order_out(
        order(OrderStatus.received, PaymentStatus.pending),
        PaymentFacts(payment=PAYMENT, payable=True),
        cash_enabled=True,
    )
    assert view.payment == PAYMENT and view.refund is None
    assert view.actions == ["cancel", "pay", "retry_payment", "switch_to_cash"]


def test_a_paid_then_cancelled_order_shows_its_refund_not_its_checkout():
    view = customer_order_out(
        order(OrderStatus.cancelled, PaymentStatus.captured),
        PaymentFacts(payment=PAYMENT.model_copy(update={"status": "captured"}), refund=REFUND),
        cash_enabled=True,
    )
    assert view.payment is None and view.refund == REFUND and view.actions == []


def test_an_order_without_payment_facts():
    view = customer_order_out(
        order(OrderStatus.received, PaymentStatus.pending), NO_PAYMENT, cash_enabled=False
    )
    assert view.payment is None and view.refund is None
    assert view.actions == ["cancel", "retry_payment"]  # no checkout yet, no cash
    assert set(view.model_dump()) == set(OrderOut.model_fields)
