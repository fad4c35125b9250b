"""The customer's `actions` (issue 15): listed from the same rules the endpoints enforce.

Each order state is built as a real (unsaved) Order; `cancel` is checked against the
state machine itself (`check_transition`), the payment actions against the payment
rules, for every status, payment method and payment state. The API test
(test_order_actions_api.py) presses each button against the real endpoints.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest

from canteen.core.errors import AppError
from canteen.orders.actions import CustomerAction, awaits_upi_payment, customer_actions
from canteen.orders.models import Order, OrderStatus, OrderType, PaymentMethod, PaymentStatus
from canteen.orders.state import Actor, check_transition

A = CustomerAction
NOW = datetime(2026, 2, 13, 12, 0, tzinfo=UTC)


def order(
    status: OrderStatus,
    method: PaymentMethod = PaymentMethod.upi,
    payment_status: PaymentStatus = PaymentStatus.pending,
    *,
    rated: bool = False,
) -> Order:
    return Order(
        id=uuid.uuid4(),
        number="ORD-20260213-001",
        status=status.value,
        payment_method=method.value,
        payment_status=payment_status.value,
        order_type=OrderType.pickup.value,
        feedback_rating=4 if rated else None,
        created_at=NOW,
        updated_at=NOW,
    )


def customer_may_cancel(o: Order) -> bool:
    try:
        check_transition(o, OrderStatus.cancelled, Actor.customer)
    except AppError:
        return False
    return True


STATES = list(
    itertools.product(OrderStatus, PaymentMethod, PaymentStatus, (False, True), (False, True))
)


@pytest.mark.parametrize(("status", "method", "paid", "payable", "cash"), STATES)
def test_each_action_is_listed_exactly_when_its_rule_allows_it(status, method, paid, payable, cash):
    o = order(status, method, paid)
    actions = customer_actions(o, payable=payable, cash_enabled=cash)
    assert (A.cancel in actions) == customer_may_cancel(o)
    waiting = (
        method == PaymentMethod.upi
        and status == OrderStatus.received
        and paid not in (PaymentStatus.captured,)
    )
    assert awaits_upi_payment(o) == waiting
    # POST /orders/{id}/payment/retry: an unpaid UPI order still received.
    assert (A.retry_payment in actions) == waiting
    # Switch to cash: the same, while the canteen takes cash.
    assert (A.switch_to_cash in actions) == (waiting and cash)
    # Pay: only on a gateway order that is open (created, or declined once).
    assert (A.pay in actions) == (waiting and payable)
    assert (A.feedback in actions) == (status == OrderStatus.completed)
    assert len(actions) == len(set(actions))


def test_feedback_once():
    assert A.feedback in customer_actions(
        order(OrderStatus.completed, PaymentMethod.cash, PaymentStatus.paid),
        payable=False,
        cash_enabled=True,
    )
    assert (
        customer_actions(
            order(OrderStatus.completed, PaymentMethod.cash, PaymentStatus.paid, rated=True),
            payable=False,
            cash_enabled=True,
        )
        == []
    )


@pytest.mark.parametrize(
    ("o", "payable", "expected"),
    [
        (order(OrderStatus.received), True, [A.cancel, A.pay, A.retry_payment, A.switch_to_cash]),
        (order(OrderStatus.received), False, [A.cancel, A.retry_payment, A.switch_to_cash]),
        (
            order(OrderStatus.received, payment_status=PaymentStatus.failed),
            True,
            [A.cancel, A.pay, A.retry_payment, A.switch_to_cash],
        ),
        (
            order(OrderStatus.confirmed, PaymentMethod.cash, PaymentStatus.cash_due),
            False,
            [A.cancel],
        ),
        (order(OrderStatus.confirmed, payment_status=PaymentStatus.captured), False, [A.cancel]),
        (order(OrderStatus.preparing, payment_status=PaymentStatus.captured), False, []),
        (order(OrderStatus.ready, PaymentMethod.cash, PaymentStatus.cash_due), False, []),
        (order(OrderStatus.cancelled, payment_status=PaymentStatus.failed), True, []),
    ],
)
def test_what_the_app_is_offered(o, payable, expected):
    """In the order the app lays its buttons out."""
    assert customer_actions(o, payable=payable, cash_enabled=True) == expected


def test_wire_values():
    assert [a.value for a in A] == ["cancel", "pay", "retry_payment", "switch_to_cash", "feedback"]
