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


async def test_commits_made_while_the_dispatcher_gathers_share_one_batch(container):
    """Woken, the dispatcher waits (`gather_seconds`) before it claims: an event committed
    meanwhile goes out in the same batch, marked at the same moment."""
    await container.dispatcher.stop()
    gathering = Dispatcher(container, gather_seconds=0.5)
    await gathering.start()
    try:
        order_id = uuid.uuid4()
        received: list[dict[str, Any]] = []
        with container.hub.order_subscription(str(order_id), received.append):
            for i in range(2):
                async with container.sessionmaker() as s, s.begin():
                    await record_event(s, "order.status_changed", order_id=order_id, data={"i": i})
                gathering.kick()
                await asyncio.sleep(0.05)  # the dispatcher runs in between, if it would
            for _ in range(100):
                if len(received) == 2:
                    break
                await asyncio.sleep(0.05)
        assert [m["data"]["i"] for m in received] == [0, 1]
        async with container.sessionmaker() as s:
            marked = set(
                await s.scalars(select(Event.dispatched_at).where(Event.order_id == order_id))
            )
        assert len(marked) == 1
    finally:
        await gathering.stop()
