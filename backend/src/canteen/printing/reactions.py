"""Printing's reaction to order events: a kitchen ticket when an order is confirmed.

A cash order is confirmed when placed (`order.created`), a UPI order when its payment
arrives (`order.status_changed` to confirmed). The job checks the canteen's switch and
printer when it runs and splits the order into one ticket per station when its lines
have stations. With printing off no job is enqueued at all (issue 20: it was a Celery job
per cash order that only read the switch), by the switch as this process last read it
(`service.printing_on`, at most a second old); an order confirmed just as printing was
switched on, that this saw as off, is printed by `printing.redrive_tickets`, which
prints every confirmed order since the switch-on that has no ticket.
"""

from __future__ import annotations

from canteen.events.models import Event
from canteen.events.reactions import Delivery, register_reaction
from canteen.events.types import EventType
from canteen.orders.models import OrderStatus
from canteen.printing.service import printing_on


async def print_when_confirmed(event: Event, delivery: Delivery) -> None:
    if (
        event.status == OrderStatus.confirmed
        and event.order_id
        and await delivery.read_once("printing.on", printing_on)
    ):
        await delivery.enqueue(
            "printing.print_ticket",
            order_id=str(event.order_id),
            confirmed_at=event.created_at.isoformat(),
        )


def register() -> None:
    register_reaction(EventType.order_created, print_when_confirmed)
    register_reaction(EventType.order_status_changed, print_when_confirmed)
