"""The outbox dispatcher claims a batch with one statement (issue 20): the oldest
undispatched events, marked and returned by one UPDATE. Two dispatchers at once (two API
processes; on PostgreSQL `SKIP LOCKED`) must never both take an event, and a batch is
delivered in log order whatever order the rows come back in."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select

from canteen.events.dispatcher import Dispatcher
from canteen.events.models import Event
from canteen.events.service import record_event

EVENTS = 40


async def _record(container: Any, order_id: uuid.UUID) -> None:
    async with container.sessionmaker() as s, s.begin():
        for i in range(EVENTS):
            await record_event(
                s, "order.status_changed", order_id=order_id, status="preparing", data={"i": i}
            )


async def _undispatched(container: Any) -> int:
    async with container.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).where(Event.dispatched_at.is_(None))) or 0)


async def test_two_dispatchers_at_once_take_every_event_once(container):
    await container.dispatcher.stop()  # only the two below deliver
    await _record(container, uuid.uuid4())
    first, second = Dispatcher(container), Dispatcher(container)
    taken = await asyncio.gather(first.dispatch_pending(), second.dispatch_pending())
    # Each event went to exactly one of them: none twice, none left behind.
    assert sum(taken) == EVENTS, taken
    assert await _undispatched(container) == 0
    assert await Dispatcher(container).dispatch_pending() == 0


async def test_a_batch_is_delivered_in_log_order(container):
    await container.dispatcher.stop()
    order_id = uuid.uuid4()
    await _record(container, order_id)
    received: list[dict[str, Any]] = []
    with container.hub.order_subscription(str(order_id), received.append):
        assert await Dispatcher(container).dispatch_pending() == EVENTS
    assert [m["data"]["i"] for m in received] == list(range(EVENTS))
    seqs = [m["seq"] for m in received]
    assert seqs == sorted(seqs)
    assert await _undispatched(container) == 0
