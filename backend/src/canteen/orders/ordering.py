"""The customer's order, end to end: placed, committed, then its UPI checkout opened.

This is the one place a request's unit of work is split in two: the placement holds the
day's counter row until it commits, so nothing else (the gateway call, building the
answer) may run inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.orders.idempotency import IdempotencyStore
from canteen.orders.models import Order, PaymentMethod
from canteen.orders.placement import place_order
from canteen.orders.ports import NO_PAYMENT, PaymentFacts, payments
from canteen.orders.schemas import OrderCreate
from canteen.users.models import User


@dataclass(frozen=True)
class Placed:
    order: Order
    created: bool  # False: a replay of a finished request with the same idempotency key
    # What a just-placed order's customer sees of its payment (None on a replay: read it).
    facts: PaymentFacts | None = None


async def place_and_checkout(
    c: Container, session: AsyncSession, user: User, body: OrderCreate, raw_key: str | None
) -> Placed:
    order, created = await place_order(c, session, user, body, raw_key)
    if not created:
        return Placed(order, created=False)
    customer_id = user.id  # read now: a failed flush expires every loaded row
    facts = NO_PAYMENT
    try:
        await session.commit()
        if order.payment_method == PaymentMethod.upi:
            # A gateway outage leaves a placed order the app can pay for later.
            facts = await payments().start_checkout(c, session, order)
            await session.commit()
    except BaseException:
        # A database error here must not leave the key "in progress" (issue 13).
        await IdempotencyStore(c.kv).release_after_failure(customer_id, raw_key)
        raise
    return Placed(order, created=True, facts=facts)
