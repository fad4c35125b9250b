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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from canteen.events.models import Event
from canteen.events.service import latest_seq
from canteen.events.types import EVENT_TYPES, MENU_EVENT_TYPES
from canteen.realtime.accounts import AccountWatch
from canteen.realtime.display_watch import DisplayWatch

log = logging.getLogger("canteen.realtime")

# Events handed to the bus shortly before this process noticed it had lost its
# subscription may not have reached it either; clocks of two hosts may differ a little.
CATCH_UP_MARGIN = timedelta(seconds=60)
CATCH_UP_BATCH = 500

# The kitchen hears every event type.
KITCHEN_TYPES = EVENT_TYPES


OrderListener = Callable[[dict[str, Any]], None]


# What students' open menus, carts and checkouts must hear about (realtime.menu_stream).
MENU_TYPES = MENU_EVENT_TYPES
MenuListener = Callable[[dict[str, Any]], None]


class KitchenSubscriber:
    """Kitchen streams read the event log themselves; the hub only wakes them up."""

    def __init__(self) -> None:
        self.wakeup = asyncio.Event()
        self.ended: str | None = None  # why the stream must end (its account changed)

    def end(self, reason: str) -> None:
        self.ended = reason
        self.wakeup.set()


class Hub:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], seen_capacity: int = 10_000
    ) -> None:
        self._sessionmaker = sessionmaker
        self._orders: dict[str, set[OrderListener]] = {}
        self._kitchen: set[KitchenSubscriber] = set()
        self._menu: set[MenuListener] = set()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_capacity = seen_capacity
        self.delivered = 0
        # The highest event seq this hub has delivered (None until it knows where the log
        # stands): after a lost bus subscription it resumes from the log after it.
        self.position: int | None = None
        self._read_to: int | None = None  # while the bus is down: the log is read up to here
        self.accounts = AccountWatch(sessionmaker)
        self.displays = DisplayWatch(sessionmaker)  # revoked display tokens end their streams

    def deliver(self, message: dict[str, Any]) -> None:
        """Called for every event from the bus; duplicates (same id) are dropped."""
        event_id = str(message.get("id"))
        if event_id in self._seen:
            return
        self._seen[event_id] = None
        if len(self._seen) > self._seen_capacity:
            self._seen.popitem(last=False)
        self.delivered += 1
        seq = message.get("seq")
        if isinstance(seq, int) and (self.position is None or seq > self.position):
            self.position = seq
        order_id = message.get("order_id")
        if order_id:
            for listener in self._orders.get(str(order_id), ()):
                listener(message)
        if message.get("type") in KITCHEN_TYPES:
            for kitchen in self._kitchen:
                kitchen.wakeup.set()
        if message.get("type") in MENU_TYPES:
            for menu_listener in tuple(self._menu):
                menu_listener(message)

    async def catch_up(self, lost_at: datetime | None, *, live: bool = True) -> int:
        """Deliver, from the event log, what the bus may not have brought; returns how many.

        The bus calls it each time its subscription is (re)made (`live`), after
        subscribing and before reading live messages, so nothing falls between the two;
        and after each failed attempt while Redis is away (not `live`), so clients keep
        getting changes, a few seconds late. What comes twice is dropped by event id.
        `lost_at` is when the subscription was lost (None on a process's first
        subscription: there is nothing to catch up on, only the position to learn).

        The first read after a loss takes everything after the position, everything not
        handed to the bus yet, and everything handed to it since shortly before the loss
        (the bus can bring a higher seq before a lower one). Later reads in the same
        outage take only what is above the log's top at the previous read: seq is commit
        order, so the log never gains an event below a seq it has shown.
        """
        async with self._sessionmaker() as session:
            top = await latest_seq(session)
            if lost_at is None and self.position is None:
                self.position = top
                return 0
            missed: list[ColumnElement[bool]]
            if self._read_to is not None:
                missed = [Event.seq > self._read_to]
            else:
                missed = [Event.dispatched_at.is_(None)]
                if self.position is not None:
                    missed.append(Event.seq > self.position)
                if lost_at is not None:
                    missed.append(Event.dispatched_at >= lost_at - CATCH_UP_MARGIN)
            delivered, cursor = 0, -1
            while True:
                events = list(
                    await session.scalars(
                        select(Event)
                        .where(Event.seq > cursor, or_(*missed))
                        .order_by(Event.seq)
                        .limit(CATCH_UP_BATCH)
                    )
                )
                for event in events:
                    before = self.delivered
                    self.deliver(event.to_message())
                    delivered += self.delivered - before
                    cursor = event.seq
                if len(events) < CATCH_UP_BATCH:
                    break
        # Live again: the bus brings what follows, and a later loss starts afresh.
        self._read_to = None if live else max(top, cursor)
        return delivered

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
    def menu_subscription(self, listener: MenuListener) -> Iterator[None]:
        """Call `listener` (synchronously, must not block) with each menu or settings
        change: the students' live menu channel (realtime.menu_stream)."""
        self._menu.add(listener)
        try:
            yield
        finally:
            self._menu.discard(listener)

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
