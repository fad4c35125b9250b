"""The outbox's reactions (issue 15): the domains register them, the dispatcher calls them.

The jobs each event leads to, with their arguments, are the ones the dispatcher used to
enqueue itself; the API tests (test_push, test_payments, test_faults_jobs) check what the
jobs then do.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from canteen.bootstrap import register_reactions
from canteen.events.models import Event
from canteen.events.reactions import Delivery, reactions_for, register_reaction
from canteen.events.types import EVENT_TYPES, MENU_EVENT_TYPES, EventType
from canteen.notifications.reactions import DEVICES_READ, TEXTS_READ
from canteen.realtime.hub import KITCHEN_TYPES, MENU_TYPES


class Jobs:
    def __init__(self) -> None:
        self.enqueued: list[tuple[str, dict[str, Any]]] = []

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        self.enqueued.append((name, kwargs))

    async def drain(self) -> None:
        return None


def event(type: EventType, status: str | None, payment: str | None, **data: Any) -> Event:
    return Event(
        id=uuid.uuid4(),
        type=type.value,
        data=data,
        order_id=uuid.uuid4(),
        order_number="ORD-20260213-042",
        status=status,
        payment_status=payment,
    )


async def react(
    e: Event, *, device: bool = True, texts: bool = True
) -> list[tuple[str, dict[str, Any]]]:
    """The jobs the reactions enqueue for `e`, given what the dispatcher's batch reads
    found: whether the customer has a device, whether ready texts are on (the reads
    themselves run on a database in test_reaction_reads.py)."""
    register_reactions()
    jobs = Jobs()
    delivery = Delivery(jobs, session=None)  # type: ignore[arg-type]  # reads made below
    await delivery.read_once(DEVICES_READ, lambda _: _found({e.order_id} if device else set()))
    await delivery.read_once(TEXTS_READ, lambda _: _found(texts))
    for reaction in reactions_for(e.type):
        await reaction(e, delivery)
    return jobs.enqueued


async def _found(value: Any) -> Any:
    return value


async def test_a_paid_order_cancelled_is_refunded_then_pushed() -> None:
    e = event(EventType.order_status_changed, "cancelled", "captured", reason="out of stock")
    assert await react(e) == [
        ("payments.refund_order", {"order_id": str(e.order_id), "reason": "out of stock"}),
        (
            "push.order_status",
            {
                "event_id": str(e.id),
                "order_id": str(e.order_id),
                "order_number": "ORD-20260213-042",
                "status": "cancelled",
            },
        ),
    ]


async def test_ready_is_pushed_and_texted() -> None:
    e = event(EventType.order_status_changed, "ready", "captured")
    names = [name for name, _ in await react(e)]
    assert names == ["push.order_status", "sms.order_ready"]


async def test_no_push_without_a_device_and_no_text_while_texts_are_off() -> None:
    e = event(EventType.order_status_changed, "ready", "captured")
    assert [name for name, _ in await react(e, device=False)] == ["sms.order_ready"]
    assert [name for name, _ in await react(e, texts=False)] == ["push.order_status"]
    assert await react(e, device=False, texts=False) == []
    moved = event(EventType.order_eta_changed, None, None, notify=True, to="12:40")
    assert [name for name, _ in await react(moved)] == ["push.order_eta"]
    assert await react(moved, device=False) == []


@pytest.mark.parametrize("status", ["pending_payment", "placed"])
async def test_statuses_not_worth_a_push_enqueue_nothing(status: str) -> None:
    assert await react(event(EventType.order_status_changed, status, "pending")) == []


async def test_a_payment_after_the_cancel_is_refunded_with_the_default_reason() -> None:
    e = event(EventType.order_payment_updated, "cancelled", "captured", refund_needed=True)
    assert await react(e) == [
        ("payments.refund_order", {"order_id": str(e.order_id), "reason": "order cancelled"})
    ]
    assert await react(event(EventType.order_payment_updated, "confirmed", "captured")) == []


async def test_registering_twice_calls_each_reaction_once() -> None:
    register_reactions()
    before = reactions_for(EventType.order_status_changed)
    register_reactions()
    assert reactions_for(EventType.order_status_changed) == before
    register_reaction(EventType.order_status_changed, before[0])
    assert reactions_for(EventType.order_status_changed) == before
    assert reactions_for("no.such_type") == ()


def test_one_enum_names_every_type_with_unchanged_wire_values() -> None:
    assert {t.value for t in EventType} == {
        "order.created",
        "order.status_changed",
        "order.payment_updated",
        "order.assigned",
        "order.recalled",
        "order.line_done",
        "order.eta_changed",
        "menu.updated",
        "config.updated",
    }
    assert KITCHEN_TYPES == EVENT_TYPES
    assert MENU_TYPES == MENU_EVENT_TYPES == {"menu.updated", "config.updated"}
