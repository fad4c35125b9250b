"""Recall: the kitchen puts back a ticket it moved by mistake (issue 17, part 6).

A staff move to ready, a handover (completed) or a staff cancel can be undone by kitchen
staff or an admin within RECALL_WINDOW: the order returns to the status it came from and
an `order.recalled` event records who, why, and which move was undone. The event carries
the restored status, so the kitchen stream and an open order socket show it at once.

Consequences are undone where they can be: a handover of a cash order had marked it paid
(cash_due again); a staff cancel had given the stock back (taken again, refused when it
has been sold since). A cancel of a paid UPI order started its refund at once, and money
on its way back cannot be recalled: refused.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import column, exists, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.errors import Conflict, NotFound, field_error
from canteen.events.models import Event
from canteen.events.types import EventType
from canteen.kitchen import capacity
from canteen.menu.models import MenuItem
from canteen.orders.counter import return_cash
from canteen.orders.events import record_order_event
from canteen.orders.models import Order, OrderStatus, PaymentStatus
from canteen.orders.stock import announce_stock

RECALL_WINDOW = timedelta(minutes=5)
STAFF = frozenset({"kitchen", "admin"})
# Payments' table, read by name: orders imports nothing of payments.
_refunds = table("refunds", column("order_id"))


@dataclass(frozen=True)
class Recalled:
    order: Order
    recalled_from: OrderStatus  # where the mistaken move had put it


class NothingToRecall(Conflict):
    code = "NOTHING_TO_RECALL"
    message = "This order has no kitchen move to put back"


class RecallWindowPassed(Conflict):
    code = "RECALL_WINDOW_PASSED"
    message = "A move can only be recalled within 5 minutes"


class RecallRefundStarted(Conflict):
    code = "RECALL_REFUND_STARTED"
    message = "The refund of this paid order has started; it cannot be recalled"


class RecallStockGone(Conflict):
    code = "RECALL_STOCK_GONE"
    message = "Some dishes of this order have been sold since it was cancelled"


async def recall(
    session: AsyncSession,
    order_id: uuid.UUID,
    *,
    actor: str,
    actor_id: uuid.UUID,
    reason: str,
    now: datetime,
) -> Recalled:
    """Put the order back where its last kitchen move took it from."""
    order = await session.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound("No such order")
    current = OrderStatus(order.status)
    move = await _last_move(session, order)
    moved_at = _moved_at(order)
    detail = field_error("status", "not_recallable", current=current.value)
    if move is None or moved_at is None:
        raise NothingToRecall(details=[detail])
    if now - moved_at > RECALL_WINDOW:
        raise RecallWindowPassed(
            details=[
                field_error(
                    "status",
                    "window_passed",
                    current=current.value,
                    moved_at=moved_at.isoformat(),
                    window_seconds=int(RECALL_WINDOW.total_seconds()),
                )
            ]
        )
    back_to = OrderStatus(str(move.data["from"]))
    if current == OrderStatus.cancelled:
        await _check_no_refund(session, order)
        taken = await _take_stock_again(session, order)
        # The kitchen window's minutes too, after the dishes' rows and before the settings
        # row (the placement's lock order; otherwise a deadlock with a placement).
        await capacity.retake(
            session, order.time_slot, order.pickup_window_start, order.window_minutes
        )
        if taken:
            await announce_stock(session, [(i, name) for i, name, out in taken if out])
    _restore(order, current, back_to, now)
    await record_order_event(
        session,
        EventType.order_recalled,
        order,
        actor_id=actor_id,
        data={
            "from": current.value,
            "to": back_to.value,
            "reason": reason,
            "actor": actor,
            "recalled_seq": move.seq,
        },
    )
    return Recalled(order, current)


async def recallable_until(session: AsyncSession, order: Order) -> datetime | None:
    """Until when the move that left the order where it is may still be recalled; None
    when it cannot be (not a kitchen move, a recall already, a refund started). The order
    socket keeps a recallable handover or cancel open until then (realtime.order_window).
    """
    move = await _last_move(session, order)
    moved_at = _moved_at(order)
    if move is None or moved_at is None:
        return None
    if order.status == OrderStatus.cancelled and await _refund_started(session, order):
        return None
    return moved_at + RECALL_WINDOW


def _moved_at(order: Order) -> datetime | None:
    return {
        OrderStatus.ready: order.ready_at,
        OrderStatus.completed: order.completed_at,
        OrderStatus.cancelled: order.cancelled_at,
    }.get(OrderStatus(order.status))


async def _last_move(session: AsyncSession, order: Order) -> Event | None:
    """The status change that brought the order where it is, if the kitchen made it."""
    last = await session.scalar(
        select(Event)
        .where(
            Event.order_id == order.id,
            Event.type.in_([EventType.order_status_changed.value, EventType.order_recalled.value]),
        )
        .order_by(Event.seq.desc())
        .limit(1)
    )
    if (
        last is None
        or last.type != EventType.order_status_changed.value
        or last.data.get("to") != order.status
        or last.data.get("actor") not in STAFF
        or order.status not in (OrderStatus.ready, OrderStatus.completed, OrderStatus.cancelled)
    ):
        return None
    return last


async def _refund_started(session: AsyncSession, order: Order) -> bool:
    paid = order.payment_status in (PaymentStatus.captured, PaymentStatus.refunded)
    return paid or bool(
        await session.scalar(select(exists().where(_refunds.c.order_id == order.id)))
    )


async def _check_no_refund(session: AsyncSession, order: Order) -> None:
    if await _refund_started(session, order):
        raise RecallRefundStarted(
            details=[field_error("payment_status", "refund_started", current=order.payment_status)]
        )


async def _take_stock_again(
    session: AsyncSession, order: Order
) -> list[tuple[uuid.UUID, str, bool]]:
    """The cancel gave the counted dishes back; take them again, or refuse if sold since.
    Returns each counted dish taken, with its name and whether it is now sold out."""
    wanted = Counter[uuid.UUID]()
    for line in order.items:
        wanted[line.menu_item_id] += line.quantity
    ids = sorted(wanted)  # id order: no deadlocks with placement
    rows = (
        await session.execute(
            select(MenuItem.id, MenuItem.name, MenuItem.stock_remaining)
            .where(MenuItem.id.in_(ids), MenuItem.stock_remaining.is_not(None))
            .order_by(MenuItem.id)
            .with_for_update()
        )
    ).all()
    short = [
        field_error(
            "items",
            "sold_since",
            f"Only {left} {name} left",
            menu_item_id=str(item_id),
            wanted=wanted[item_id],
            left=left,
        )
        for item_id, name, left in rows
        if left < wanted[item_id]
    ]
    if short:
        raise RecallStockGone(details=short)
    for item_id, _name, _left in rows:
        await session.execute(
            update(MenuItem)
            .where(MenuItem.id == item_id)
            .values(stock_remaining=MenuItem.stock_remaining - wanted[item_id])
            .execution_options(synchronize_session=False)
        )
    # left == wanted: the recall took the last portions.
    return [(item_id, name, left == wanted[item_id]) for item_id, name, left in rows]


def _restore(order: Order, current: OrderStatus, back_to: OrderStatus, now: datetime) -> None:
    order.status = back_to
    order.updated_at = now
    if current == OrderStatus.ready:
        order.ready_at = None
    elif current == OrderStatus.completed:
        order.completed_at = None
        return_cash(order)  # the cash was not taken after all
    else:
        order.cancelled_at = None
        order.cancelled_by = None
        order.cancel_reason = None
