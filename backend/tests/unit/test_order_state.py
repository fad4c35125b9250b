"""The order state machine (canteen.orders.state), every status x target x actor.

The expected rules are written out here as a table (product.md, "Order lifecycle"),
not derived from the module's own TRANSITIONS, so a changed edge or a changed permission
fails here. Orders are real (unsaved) `Order` rows; nothing is mocked.

Recall (issue 17) is not a transition of this machine: `orders.recall` restores the
status a kitchen move came from, with its own refusals, tested in the API tests.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest

from canteen.core.errors import AppError
from canteen.orders.errors import DeliveryNotAssigned, InvalidTransition, PaymentPending
from canteen.orders.models import Order, OrderStatus, OrderType, PaymentMethod, PaymentStatus
from canteen.orders.state import (
    ACTIVE,
    CUSTOMER_CANCELLABLE,
    TERMINAL,
    TRANSITIONS,
    Actor,
    allowed_next,
    check_transition,
)

S = OrderStatus
NOW = datetime(2026, 2, 13, 12, 0, tzinfo=UTC)
STAFF = frozenset({Actor.kitchen, Actor.admin})
EVERYONE = frozenset(Actor)

# Who may take each edge of a pickup order whose payment is settled (UPI captured).
PICKUP: dict[tuple[OrderStatus, OrderStatus], frozenset[Actor]] = {
    (S.received, S.confirmed): frozenset({Actor.system}),
    (S.received, S.cancelled): EVERYONE - {Actor.delivery},
    (S.confirmed, S.preparing): STAFF,
    (S.confirmed, S.cancelled): EVERYONE - {Actor.delivery},
    (S.preparing, S.ready): STAFF,
    (S.preparing, S.cancelled): STAFF | {Actor.system},
    (S.ready, S.out_for_delivery): frozenset(),  # only delivery orders go out
    (S.ready, S.completed): STAFF | {Actor.delivery},
    (S.ready, S.cancelled): STAFF | {Actor.system},
    (S.ready, S.not_collected): frozenset({Actor.system}),
    (S.out_for_delivery, S.completed): STAFF | {Actor.delivery},
    (S.out_for_delivery, S.cancelled): STAFF | {Actor.system},
}
# A delivery order with its delivery staff assigned: it goes out before it is completed
# and is never "not collected".
DELIVERY = {
    **PICKUP,
    (S.ready, S.out_for_delivery): STAFF | {Actor.delivery},
    (S.ready, S.completed): frozenset(),
    (S.ready, S.not_collected): frozenset(),
}


def make(
    status: OrderStatus,
    *,
    order_type: OrderType = OrderType.pickup,
    method: PaymentMethod = PaymentMethod.upi,
    payment_status: PaymentStatus = PaymentStatus.captured,
    delivery_staff: bool = True,
) -> Order:
    return Order(
        id=uuid.uuid4(),
        number="ORD-20260213-001",
        status=status.value,
        order_type=order_type.value,
        payment_method=method.value,
        payment_status=payment_status.value,
        delivery_staff_id=uuid.uuid4() if delivery_staff else None,
        created_at=NOW,
        updated_at=NOW,
    )


def refusal(order: Order, target: OrderStatus, actor: Actor) -> AppError | None:
    try:
        check_transition(order, target, actor)
    except AppError as exc:
        return exc
    return None


def assert_details(exc: AppError, order: Order, target: OrderStatus, actor: Actor) -> None:
    assert exc.details == [
        {
            "field": "status",
            "issue": exc.code.lower(),
            "current": order.status,
            "requested": target.value,
            "allowed": allowed_next(order, actor),
        }
    ]


def test_the_graph_is_the_documented_one_and_names_every_status():
    assert set(TRANSITIONS) == set(OrderStatus)
    edges = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert edges == set(PICKUP)
    assert {S.completed, S.cancelled, S.not_collected} == TERMINAL
    assert {s for s, targets in TRANSITIONS.items() if not targets} == TERMINAL
    assert set(OrderStatus) - TERMINAL == ACTIVE
    assert {S.received, S.confirmed} == CUSTOMER_CANCELLABLE


MATRIX = list(itertools.product(OrderStatus, OrderStatus, Actor))


@pytest.mark.parametrize(("table", "order_type"), [(PICKUP, "pickup"), (DELIVERY, "delivery")])
@pytest.mark.parametrize(("current", "target", "actor"), MATRIX)
def test_every_status_target_and_actor(table, order_type, current, target, actor):
    order = make(current, order_type=OrderType(order_type))
    exc = refusal(order, target, actor)
    if actor in table.get((current, target), frozenset()):
        assert exc is None
        assert target.value in allowed_next(order, actor)
        return
    assert exc is not None, f"{actor} moved a {order_type} order {current} -> {target}"
    assert type(exc) is InvalidTransition
    assert (exc.status_code, exc.code) == (409, "INVALID_TRANSITION")
    assert target.value not in allowed_next(order, actor)
    if (current, target) not in table:
        assert exc.message == f"An order that is {current} cannot become {target}"
    assert_details(exc, order, target, actor)
    assert order.status == current.value  # a refusal changes nothing


@pytest.mark.parametrize("status", sorted(TERMINAL))
@pytest.mark.parametrize("actor", list(Actor))
def test_a_terminal_status_goes_nowhere(status, actor):
    order = make(status)
    assert allowed_next(order, actor) == []
    for target in OrderStatus:
        exc = refusal(order, target, actor)
        assert isinstance(exc, InvalidTransition)
        assert exc.details[0]["allowed"] == []


@pytest.mark.parametrize("actor", list(Actor))
def test_the_kitchen_cannot_start_an_unpaid_upi_order(actor):
    # received (awaiting payment): PAYMENT_PENDING for everyone, though the edge is missing,
    # because that is what the kitchen needs to hear.
    waiting = make(S.received, payment_status=PaymentStatus.pending)
    exc = refusal(waiting, S.preparing, actor)
    assert type(exc) is PaymentPending
    assert (exc.status_code, exc.code, exc.message) == (
        409,
        "PAYMENT_PENDING",
        "This UPI order has not been paid yet",
    )
    assert_details(exc, waiting, S.preparing, actor)
    # confirmed but not captured (a payment undone): staff hear PAYMENT_PENDING, others
    # that it is not theirs to do.
    odd = make(S.confirmed, payment_status=PaymentStatus.failed)
    exc = refusal(odd, S.preparing, actor)
    expected = PaymentPending if actor in STAFF else InvalidTransition
    assert type(exc) is expected
    assert_details(exc, odd, S.preparing, actor)


@pytest.mark.parametrize("payment_status", [PaymentStatus.cash_due, PaymentStatus.paid])
def test_a_cash_order_is_started_without_a_captured_payment(payment_status):
    order = make(S.confirmed, method=PaymentMethod.cash, payment_status=payment_status)
    for actor in Actor:
        exc = refusal(order, S.preparing, actor)
        assert (exc is None) == (actor in STAFF)


@pytest.mark.parametrize("actor", list(Actor))
def test_no_dispatch_without_delivery_staff(actor):
    order = make(S.ready, order_type=OrderType.delivery, delivery_staff=False)
    exc = refusal(order, S.out_for_delivery, actor)
    assert type(exc) is DeliveryNotAssigned
    assert (exc.status_code, exc.code, exc.message) == (
        409,
        "DELIVERY_NOT_ASSIGNED",
        "Assign a delivery staff member first",
    )
    assert_details(exc, order, S.out_for_delivery, actor)
    assert "out_for_delivery" not in allowed_next(order, actor)


@pytest.mark.parametrize(
    ("order", "target", "actor", "message"),
    [
        (make(S.received), S.confirmed, Actor.kitchen, "Orders are confirmed by their payment"),
        (make(S.confirmed), S.preparing, Actor.customer, "Only the kitchen starts preparing"),
        (make(S.preparing), S.ready, Actor.delivery, "Only the kitchen marks an order ready"),
        (make(S.ready), S.out_for_delivery, Actor.admin, "Only delivery orders go out"),
        (
            make(S.ready, order_type=OrderType.delivery),
            S.out_for_delivery,
            Actor.customer,
            "Only staff dispatch an order",
        ),
        (
            make(S.ready, order_type=OrderType.delivery),
            S.completed,
            Actor.kitchen,
            "A delivery order is completed after it goes out",
        ),
        (make(S.ready), S.completed, Actor.customer, "Only staff complete an order"),
        (make(S.preparing), S.cancelled, Actor.customer, "The kitchen has started this order"),
        (make(S.confirmed), S.cancelled, Actor.delivery, "Delivery staff cannot cancel"),
        (make(S.ready), S.not_collected, Actor.admin, "Orders become not collected"),
        (
            make(S.ready, order_type=OrderType.delivery),
            S.not_collected,
            Actor.system,
            "Only pickup orders wait to be collected",
        ),
    ],
)
def test_each_refusal_says_why(order, target, actor, message):
    exc = refusal(order, target, actor)
    assert isinstance(exc, InvalidTransition)
    assert exc.message.startswith(message)


def test_allowed_next_lists_exactly_the_permitted_edges():
    for current, actor in itertools.product(OrderStatus, Actor):
        for order_type, table in ((OrderType.pickup, PICKUP), (OrderType.delivery, DELIVERY)):
            order = make(current, order_type=order_type)
            expected = [t.value for t in TRANSITIONS[current] if actor in table[(current, t)]]
            assert allowed_next(order, actor) == expected, (current, actor, order_type)
