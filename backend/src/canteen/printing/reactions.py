"""Printing's reaction to order events: a kitchen ticket when an order is confirmed.

A cash order is confirmed when placed (`order.created`), a UPI order when its payment
arrives (`order.status_changed` to confirmed). The job checks the canteen's switch and
printer, as the ready SMS's job does, so the reaction stays a cheap enqueue. The job
splits the order into one ticket per station when its lines have stations.
"""

from __future__ import annotations

from canteen.core.jobs import JobRunner
from canteen.events.models import Event
from canteen.events.reactions import register_reaction
from canteen.events.types import EventType
from canteen.orders.models import OrderStatus


async def print_when_confirmed(event: Event, jobs: JobRunner) -> None:
    if event.status == OrderStatus.confirmed and event.order_id:
        await jobs.enqueue(
            "printing.print_ticket",
            order_id=str(event.order_id),
            confirmed_at=event.created_at.isoformat(),
        )


def register() -> None:
    register_reaction(EventType.order_created, print_when_confirmed)
    register_reaction(EventType.order_status_changed, print_when_confirmed)
