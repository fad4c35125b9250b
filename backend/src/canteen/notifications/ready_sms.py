"""The "your order is ready" text, when the canteen switches it on: one per order, never
lost to a killed worker or a Redis that forgot the job.

The dispatcher queues `sms.order_ready` when an order turns ready. The job takes a lease
on the order in the database, sends, then commits the done mark (`canteen.core.once`):
a second run finds the mark or the lease and sends nothing; a run killed mid-send leaves
its lease, which the retried job or `sms.redrive_ready` takes over after LEASE_SECONDS.
The sweep texts orders that turned ready 1 to 10 minutes ago, are still waiting and have
no mark (a lost job); later, the text is noise.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from canteen.core.db import unit_of_work
from canteen.core.jobs import RetryableJobError, job
from canteen.core.once import JobMark, Outcome, effect_once
from canteen.menu.config import get_config
from canteen.orders.models import Order, OrderStatus
from canteen.sms.base import SmsError, SmsMessage
from canteen.users.models import User

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.sms.ready")

# Longer than a provider call (10 s timeout): a lease older than this belongs to a dead run.
LEASE_SECONDS = 20.0
REDRIVE_WINDOW_SECONDS = 600.0
# The order's own job normally sends within seconds: the sweep leaves it that long.
REDRIVE_GRACE_SECONDS = 60.0


def done_key(order_id: uuid.UUID | str) -> str:
    return f"sms-ready:{order_id}"


def ready_sms_text(order: Order) -> str:
    if order.order_type == "delivery":
        return f"Canteen: your order {order.number} is ready and will be on its way shortly."
    return (
        f"Canteen: your order {order.number} is ready. "
        f"Show pickup code {order.pickup_code} at the counter."
    )


@job("sms.order_ready", max_retries=5)
async def sms_order_ready(c: Container, *, order_id: str, event_id: str | None = None) -> None:
    """Text the student that the order is ready (the event id is for the logs only: one
    text per order). Another run sending it now makes this one retry later."""
    try:
        order_uuid = uuid.UUID(order_id)
    except ValueError:
        log.error("sms.order_ready: bad order id %r (event %s)", order_id, event_id)
        return
    if await text_ready(c, order_uuid) is Outcome.busy:
        raise RetryableJobError("another run is sending this text")


async def text_ready(c: Container, order_id: uuid.UUID) -> Outcome | None:
    """Send the order's ready text unless it was sent; None when there is nothing to send
    (texts off, the order or its customer gone)."""
    async with c.sessionmaker() as session:
        if not (await get_config(session)).ready_sms_enabled:
            return None
        order = await session.get(Order, order_id)
        customer = await session.get(User, order.customer_id) if order else None
        if order is None or customer is None:
            return None
        message = SmsMessage(to=customer.phone, body=ready_sms_text(order))

    async def send() -> None:
        try:
            await c.sms.send(message)
        except SmsError as exc:
            if exc.retryable:
                raise RetryableJobError(str(exc)) from exc
            # Refused for good (number, template): marked done, as retrying cannot help.
            log.error("ready SMS for order %s refused: %s", order_id, exc.message)

    return await effect_once(
        c.sessionmaker, done_key(order_id), clock=c.clock, lease_seconds=LEASE_SECONDS, effect=send
    )


@job("sms.redrive_ready", max_retries=0)
async def redrive_ready_sms(c: Container) -> None:
    """Sweep: orders still ready that turned ready 1 to 10 minutes ago without a done mark
    get their text now. Safe beside the job and other sweeps: the lease lets one send."""
    now = c.clock.now()
    async with c.sessionmaker() as session:
        due: list[uuid.UUID] = []
        if (await get_config(session)).ready_sms_enabled:
            due = list(
                await session.scalars(
                    select(Order.id)
                    .where(
                        Order.status == OrderStatus.ready.value,
                        Order.ready_at >= now - timedelta(seconds=REDRIVE_WINDOW_SECONDS),
                        Order.ready_at <= now - timedelta(seconds=REDRIVE_GRACE_SECONDS),
                    )
                    .order_by(Order.ready_at)
                    .limit(500)
                )
            )
        keys = [done_key(order_id) for order_id in due]
        done = set(await session.scalars(select(JobMark.key).where(JobMark.key.in_(keys))))
    for order_id in due:
        if done_key(order_id) in done:
            continue
        try:
            await text_ready(c, order_id)  # busy: its owner is sending it
        except Exception:
            log.warning("ready SMS for order %s not sent; next sweep", order_id, exc_info=True)
    async with unit_of_work(c.sessionmaker) as session:
        # Marks outlive the window by a day, then go.
        await session.execute(
            delete(JobMark).where(
                JobMark.key.like("sms-ready:%"), JobMark.created_at < now - timedelta(days=1)
            )
        )
