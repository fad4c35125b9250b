"""In-process fan-out of events to this process's WebSocket and SSE clients.

Each process has one hub and one bus subscription (Redis or in-process); sockets
register here instead of opening their own subscription (engineering.md: one Redis
subscription per process, fanned out in memory).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("canteen.realtime")

KITCHEN_TYPES = frozenset(
    {
        "order.created",
        "order.status_changed",
        "order.payment_updated",
        "order.assigned",
        "menu.updated",
        "config.updated",
    }
)


OrderListener = Callable[[dict[str, Any]], None]


class KitchenSubscriber:
    """Kitchen streams read the event log themselves; the hub only wakes them up."""

    def __init__(self) -> None:
        self.wakeup = asyncio.Event()


class Hub:
    def __init__(self, seen_capacity: int = 10_000) -> None:
        self._orders: dict[str, set[OrderListener]] = {}
        self._kitchen: set[KitchenSubscriber] = set()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_capacity = seen_capacity
        self.delivered = 0

    def deliver(self, message: dict[str, Any]) -> None:
        """Called for every event from the bus; duplicates (same id) are dropped."""
        event_id = str(message.get("id"))
        if event_id in self._seen:
            return
        self._seen[event_id] = None
        if len(self._seen) > self._seen_capacity:
            self._seen.popitem(last=False)
        self.delivered += 1
        order_id = message.get("order_id")
        if order_id:
            for listener in self._orders.get(str(order_id), ()):
                listener(message)
        if message.get("type") in KITCHEN_TYPES:
            for kitchen in self._kitchen:
                kitchen.wakeup.set()

    @contextmanager
    def order_subscription(self, order_id: str, listener: OrderListener) -> Iterator[None]:
        """Call `listener` (synchronously, in the bus's task) with each event of the order.

        A listener must not block; a socket's listener queues the message and sends it
        from its own short-lived task (see realtime.endpoints).
        """
        self._orders.setdefault(order_id, set()).add(listener)
        try:
            yield
        finally:
            listeners = self._orders.get(order_id)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._orders[order_id]

    @contextmanager
    def kitchen_subscription(self) -> Iterator[KitchenSubscriber]:
        sub = KitchenSubscriber()
        self._kitchen.add(sub)
        try:
            yield sub
        finally:
            self._kitchen.discard(sub)

    @property
    def socket_count(self) -> int:
        return sum(len(s) for s in self._orders.values())
