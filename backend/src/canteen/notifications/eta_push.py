"""The push sent when an order's estimated ready time moves more than 5 minutes (issue 16;
the move is decided by kitchen.reestimate, the push is enqueued by reactions.py).

Devices are claimed per event in the key-value store (notifications.tasks.deliver), so a
job run twice sends once to each device."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from canteen.core.jobs import job
from canteen.notifications.push import CLICK_ACTION, PushContent
from canteen.notifications.tasks import deliver
from canteen.orders.models import Order
from canteen.users.models import DeviceToken

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.push")


def eta_message(order_number: str, order_id: str, ready_around: str) -> PushContent:
    data = {
        "type": "order_eta",
        "order_id": order_id,
        "ready_around": ready_around,
        "click_action": CLICK_ACTION,
    }
    return PushContent(
        "New ready time ⏱",
        f"Your order #{order_number} will now be ready around {ready_around}",
        data,
    )


@job("push.order_eta", max_retries=5)
async def push_order_eta(c: Container, *, event_id: str, order_id: str, ready_around: str) -> None:
    try:
        order_uuid = uuid.UUID(order_id)
        when = datetime.fromisoformat(ready_around.replace("Z", "+00:00"))
    except ValueError:
        log.error("push.order_eta: bad order id or time (event %s)", event_id)
        return
    async with c.sessionmaker() as session:
        order = await session.get(Order, order_uuid)
        if order is None:
            return
        tokens = list(
            await session.scalars(
                select(DeviceToken.token)
                .where(DeviceToken.user_id == order.customer_id)
                .order_by(DeviceToken.created_at, DeviceToken.token)
            )
        )
        number = order.number
    if tokens:
        local = f"{when.astimezone(ZoneInfo(c.settings.timezone)):%H:%M}"
        await deliver(c, event_id, tokens, eta_message(number, order_id, local))
