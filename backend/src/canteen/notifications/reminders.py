"""The "collect your order" reminder, five minutes before a ready pickup order's collection
window closes (issue 16; which orders are due is `orders.no_shows.reminders_due`).

Sent once per order, re-driven from the database: the sweep finds due orders without a
done mark, sends to each device not yet claimed for the reminder (claims in the key-value
store, as for status pushes) and then marks the order done in the database. A worker
killed mid-way leaves no mark, so the next sweep sends to the devices it missed and never
twice to one; a second worker sweeping at the same moment finds the devices claimed.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from canteen.core.db import unit_of_work
from canteen.core.jobs import job
from canteen.core.once import JobMark, mark_once
from canteen.notifications.push import collection_reminder_message
from canteen.notifications.tasks import deliver
from canteen.orders import no_shows
from canteen.orders.models import Order
from canteen.users.models import DeviceToken

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.push")


def reminder_key(order_id: uuid.UUID | str) -> str:
    # Under "push:" so push.redrive's daily clean-up removes old marks too.
    return f"push:remind-{order_id}"


@job("push.collection_reminders", max_retries=0)
async def collection_reminders(c: Container) -> None:
    async with c.sessionmaker() as session:
        due = await no_shows.reminders_due(c, session)
        keys = [reminder_key(oid) for oid, _, _ in due]
        done = set(await session.scalars(select(JobMark.key).where(JobMark.key.in_(keys))))
    for order_id, number, minutes_left in due:
        key = reminder_key(order_id)
        if key in done:
            continue
        try:
            await _remind(c, order_id, number, minutes_left)
        except Exception:
            log.warning("collection reminder for %s not sent; next sweep", number, exc_info=True)
            continue
        async with unit_of_work(c.sessionmaker) as session:
            await mark_once(session, key)


async def _remind(c: Container, order_id: uuid.UUID, number: str, minutes_left: int) -> None:
    async with c.sessionmaker() as session:
        tokens = list(
            await session.scalars(
                select(DeviceToken.token)
                .join(Order, Order.customer_id == DeviceToken.user_id)
                .where(Order.id == order_id)
                .order_by(DeviceToken.created_at, DeviceToken.token)
            )
        )
    if tokens:
        content = collection_reminder_message(number, str(order_id), minutes_left)
        await deliver(c, reminder_key(order_id), tokens, content)
