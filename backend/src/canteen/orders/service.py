"""Reading orders, moving them through the state machine, assignment and feedback."""

from __future__ import annotations

import hmac
import uuid
from collections import Counter
from datetime import date, datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.errors import ValidationFailed, field_error
from canteen.core.pagination import PageParams
from canteen.events.models import Event
from canteen.events.types import EventType
from canteen.kitchen import capacity, eta
from canteen.menu.models import MenuItem
from canteen.orders import order_rows
from canteen.orders.counter import collect_cash
from canteen.orders.errors import (
    FeedbackExists,
    InvalidTransition,
    NotADeliveryOrder,
    OrderNotCompleted,
    OrderNotFound,
    PickupCodeMismatch,
)
from canteen.orders.events import record_order_event
from canteen.orders.models import Order, OrderStatus, OrderType
from canteen.orders.state import Actor, check_transition
from canteen.orders.stock import announce_stock
from canteen.users.models import Role, User


def actor_for(user: User) -> Actor:
    return Actor(user.role)


async def read_order(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    """`session.get(Order, id)`, with its lines, by the direct path (issue 20)."""
    return await order_rows.read_order_row(session, order_id)


async def get_own_order(session: AsyncSession, user: User, order_id: uuid.UUID) -> Order:
    """Someone else's order is 404, not 403: ids of other people's orders are not confirmed."""
    order = await read_order(session, order_id)
    if order is None or order.customer_id != user.id:
        raise OrderNotFound()
    return order


async def lock_own_order(session: AsyncSession, user: User, order_id: uuid.UUID) -> Order:
    """`lock_order` for the customer's own order (404 for anyone else's, as get_own_order):
    one read where an unlocked read and then the locked one were two. The lock taken on
    someone else's order lasts only until the 404 rolls back."""
    order = await lock_order(session, order_id)
    if order.customer_id != user.id:
        raise OrderNotFound()
    return order


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> Order:
    """The order, locked for a change, as it is now (what the session held is refreshed)."""
    order = await order_rows.lock_order_row(session, order_id)
    if order is None:
        raise OrderNotFound()
    return order


async def list_own_orders(
    session: AsyncSession, user: User, page: PageParams
) -> tuple[list[Order], int]:
    where = Order.customer_id == user.id
    total = await session.scalar(select(func.count()).select_from(Order).where(where)) or 0
    rows = await session.scalars(
        select(Order)
        .where(where)
        .order_by(Order.created_at.desc(), Order.daily_seq.desc())
        .offset(page.offset)
        .limit(page.per_page)
    )
    return list(rows), total


async def list_orders(
    session: AsyncSession,
    page: PageParams,
    *,
    statuses: list[str] | None = None,
    business_date: date | None = None,
    order_type: str | None = None,
    q: str | None = None,
    delivery_staff_id: uuid.UUID | None = None,
) -> tuple[list[tuple[Order, User]], int]:
    query: Select[tuple[Order, User]] = select(Order, User).join(User, User.id == Order.customer_id)
    if statuses:
        query = query.where(Order.status.in_(statuses))
    if business_date:
        query = query.where(Order.business_date == business_date)
    if order_type:
        query = query.where(Order.order_type == order_type)
    if delivery_staff_id:
        query = query.where(Order.delivery_staff_id == delivery_staff_id)
    if q:
        needle = q.strip()
        digits = "".join(ch for ch in needle if ch.isdigit())
        clauses = [Order.number.ilike(f"%{needle}%")]
        if len(digits) >= 4:
            clauses.append(User.phone.like(f"%{digits}%"))
        query = query.where(or_(*clauses))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(Order.created_at.desc(), Order.daily_seq.desc())
        .offset(page.offset)
        .limit(page.per_page)
    )
    return [(o, u) for o, u in rows.tuples()], total


async def order_with_history(
    session: AsyncSession, order_id: uuid.UUID
) -> tuple[Order, User, list[Event]]:
    """An order as the kitchen opens it: with its customer and its events."""
    order = await session.get(Order, order_id)
    if order is None:
        raise OrderNotFound()
    customer, events = await order_rows.customer_and_history(session, order)
    assert customer is not None
    return order, customer, events


async def delivery_transition(
    session: AsyncSession,
    staff: User,
    order_id: uuid.UUID,
    target: OrderStatus,
    now: datetime,
    pickup_code: str | None = None,
) -> tuple[Order, User]:
    """Delivery staff move only the orders assigned to them: (order, its customer).
    Delivered needs the customer's code (`transition` checks it), as proof of delivery."""
    order = await lock_order(session, order_id)
    if order.delivery_staff_id != staff.id:
        raise OrderNotFound("No such order among your deliveries")
    await transition(
        session,
        order,
        target,
        actor=Actor.delivery,
        actor_id=staff.id,
        now=now,
        pickup_code=pickup_code,
    )
    customer = await session.get(User, order.customer_id)
    assert customer is not None
    return order, customer


async def transition(
    session: AsyncSession,
    order: Order,
    target: OrderStatus,
    *,
    actor: Actor,
    actor_id: uuid.UUID | None,
    now: datetime,
    reason: str | None = None,
    pickup_code: str | None = None,
) -> Order:
    """The only way an order's status changes. Writes the order event in the same transaction."""
    check_transition(order, target, actor)
    reason = (reason or "").strip() or None
    if target == OrderStatus.cancelled and actor in (Actor.kitchen, Actor.admin) and not reason:
        raise ValidationFailed(
            details=[
                field_error("reason", "missing", "Tell the customer why their order is cancelled")
            ]
        )
    # The customer's code proves a handover at the counter and a delivery at the door.
    if target == OrderStatus.completed and (
        order.order_type == OrderType.pickup or actor == Actor.delivery
    ):
        if pickup_code is None:
            raise ValidationFailed(
                details=[
                    field_error(
                        "pickup_code", "missing", "Ask the customer for their 4-digit pickup code"
                    )
                ]
            )
        if not hmac.compare_digest(pickup_code, order.pickup_code):
            raise PickupCodeMismatch(details=[field_error("pickup_code", "mismatch")])
    previous = order.status
    cash = await _stamp(session, order, target, actor, actor_id, now, reason)
    await record_order_event(
        session,
        EventType.order_status_changed,
        order,
        actor_id=actor_id,
        data={
            "from": previous,
            "to": target.value,
            "reason": order.cancel_reason if target == OrderStatus.cancelled else reason,
            "actor": actor.value,
            **cash,
        },
    )
    return order


async def _stamp(
    session: AsyncSession,
    order: Order,
    target: OrderStatus,
    actor: Actor,
    actor_id: uuid.UUID | None,
    now: datetime,
    reason: str | None,
) -> dict[str, object]:
    """The new status and what comes with it; returns the cash taken at a handover."""
    cash: dict[str, object] = {}
    order.status = target
    order.updated_at = now
    if target == OrderStatus.confirmed:
        order.confirmed_at = now
    elif target == OrderStatus.preparing:
        order.preparing_at = now
    elif target == OrderStatus.ready:
        order.ready_at = now
        # The kitchen's measured times per dish, for the next estimates (kitchen.eta).
        await eta.record_stage_times(
            session,
            (line.menu_item_id for line in order.items),
            confirmed_at=order.confirmed_at,
            preparing_at=order.preparing_at,
            ready_at=now,
        )
    elif target == OrderStatus.completed:
        order.completed_at = now
        cash = collect_cash(order, actor_id, now)  # cash changes hands at handover
    elif target == OrderStatus.cancelled:
        order.cancelled_at = now
        order.cancelled_by = actor.value
        order.cancel_reason = reason or (
            "cancelled by customer" if actor == Actor.customer else None
        )
        back = await _give_back_stock(session, order)
        # Its kitchen window's room back (kitchen.capacity): placement's lock order, the
        # dishes' rows, the window, then the settings row (the menu version); the version
        # bumped before the window deadlocked with a placement in the rush benchmark.
        # window_minutes stays: a recalled cancel takes the same minutes again.
        await capacity.release(
            session, order.time_slot, order.pickup_window_start, order.window_minutes
        )
        if back is not None:
            await announce_stock(session, back, "back_in_stock")
    return cash


async def _give_back_stock(
    session: AsyncSession, order: Order
) -> list[tuple[uuid.UUID, str]] | None:
    """Give the counted dishes back; returns those back in stock, or None if none moved."""
    quantities = Counter[uuid.UUID]()
    for line in order.items:
        quantities[line.menu_item_id] += line.quantity
    changed = False
    back_in_stock: list[tuple[uuid.UUID, str]] = []
    for item_id, quantity in sorted(quantities.items()):  # id order: no deadlocks
        row = (
            await session.execute(
                update(MenuItem)
                .where(MenuItem.id == item_id, MenuItem.stock_remaining.is_not(None))
                .values(stock_remaining=MenuItem.stock_remaining + quantity)
                .returning(MenuItem.stock_remaining, MenuItem.name)
                .execution_options(synchronize_session=False)
            )
        ).first()
        if row is not None:
            changed = True
            if row[0] == quantity:  # it was sold out until now
                back_in_stock.append((item_id, row[1]))
    return back_in_stock if changed else None


async def cancel_own(
    session: AsyncSession, user: User, order_id: uuid.UUID, reason: str | None, now: datetime
) -> Order:
    """POST /orders/{id}/cancel: the customer cancels their own order."""
    order = await lock_own_order(session, user, order_id)
    return await transition(
        session,
        order,
        OrderStatus.cancelled,
        actor=Actor.customer,
        actor_id=user.id,
        now=now,
        reason=reason,
    )


async def feedback_own(
    session: AsyncSession,
    user: User,
    order_id: uuid.UUID,
    rating: int,
    comment: str | None,
    now: datetime,
) -> Order:
    """POST /orders/{id}/feedback on the customer's own order."""
    order = await lock_own_order(session, user, order_id)
    return await add_feedback(session, order, rating, comment, now)


async def assign_delivery(
    session: AsyncSession, order: Order, staff_id: uuid.UUID, *, actor_id: uuid.UUID, now: datetime
) -> Order:
    if order.order_type != OrderType.delivery:
        raise NotADeliveryOrder()
    if order.status in (OrderStatus.completed, OrderStatus.cancelled, OrderStatus.out_for_delivery):
        raise InvalidTransition(
            f"An order that is {order.status} cannot be reassigned",
            details=[field_error("status", "invalid_transition", current=order.status)],
        )
    staff = await session.get(User, staff_id)
    if staff is None or staff.role != Role.delivery or not staff.is_active:
        raise ValidationFailed(
            details=[
                field_error(
                    "staff_id", "not_delivery_staff", "Choose an active delivery staff member"
                )
            ]
        )
    order.delivery_staff_id = staff.id
    order.updated_at = now
    await record_order_event(
        session,
        EventType.order_assigned,
        order,
        actor_id=actor_id,
        data={"delivery_staff_id": str(staff.id), "delivery_staff_name": staff.name},
    )
    return order


async def add_feedback(
    session: AsyncSession, order: Order, rating: int, comment: str | None, now: datetime
) -> Order:
    if order.status != OrderStatus.completed:
        raise OrderNotCompleted()
    if order.feedback_rating is not None:
        raise FeedbackExists()
    order.feedback_rating = rating
    order.feedback_comment = (comment or "").strip() or None
    order.feedback_at = now
    order.updated_at = now
    await session.flush()
    return order
