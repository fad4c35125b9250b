"""The customer's order, end to end: placed, committed, then its UPI checkout opened.

This is the one place a request's unit of work is split in two: the placement holds the
day's counter row until it commits, so nothing else (the gateway call, building the
answer) may run inside it.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.orders.idempotency import IdempotencyStore
from canteen.orders.models import Order, PaymentMethod
from canteen.orders.placement import place_order
from canteen.orders.ports import NO_PAYMENT, PaymentFacts, payments
from canteen.orders.schemas import OrderCreate

# Placements in flight per API process (issue 20). Every placement takes the same two rows
# (its kitchen window's, the day's counter), so past a few in flight the others only queue
# on PostgreSQL's row locks, where each commit wakes every waiter and the holder's next
# statements wait behind theirs. Here the rest wait for free (bench, 5 December: 46-64
# orders/s with 32 in flight and 21 backends waiting on the lock, 72 and under one with it).
PLACEMENTS_IN_FLIGHT = 4
# One gate per event loop: an asyncio.Semaphore belongs to the loop that first waits on it.
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(PLACEMENTS_IN_FLIGHT)
    return gate


@dataclass(frozen=True)
class Placed:
    order: Order
    created: bool  # False: a replay of a finished request with the same idempotency key
    # What a just-placed order's customer sees of its payment, and whether they may pay
    # cash, as the placement found them (None on a replay: read them).
    facts: PaymentFacts | None = None
    cash_enabled: bool | None = None


async def place_and_checkout(
    c: Container,
    session: AsyncSession,
    customer_id: uuid.UUID,
    body: OrderCreate,
    raw_key: str | None,
) -> Placed:
    """`customer_id`: the account a valid token names; the placement reads and checks it."""
    async with _gate():  # nothing read yet: a waiting request holds no connection
        order, cash_enabled = await place_order(c, session, customer_id, body, raw_key)
        if cash_enabled is None:
            return Placed(order, created=False)
        try:
            await session.commit()
        except BaseException:
            # A database error here must not leave the key "in progress" (issue 13).
            await IdempotencyStore(c.kv).release_after_failure(customer_id, raw_key)
            raise
    facts = NO_PAYMENT
    try:
        if order.payment_method == PaymentMethod.upi:
            # A gateway outage leaves a placed order the app can pay for later.
            facts = await payments().start_checkout(c, session, order)
            await session.commit()
    except BaseException:
        # A database error here must not leave the key "in progress" (issue 13).
        await IdempotencyStore(c.kv).release_after_failure(customer_id, raw_key)
        raise
    return Placed(order, created=True, facts=facts, cash_enabled=cash_enabled)
