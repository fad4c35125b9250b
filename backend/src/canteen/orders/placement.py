"""Placing an order: idempotency, validation (all problems at once), pricing, stock, number."""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.auth.deps import load_account, usable_account
from canteen.core.clock import iso_z
from canteen.core.container import Container
from canteen.core.direct import writes_in_one_with
from canteen.core.errors import ValidationFailed, field_error
from canteen.kitchen import capacity, eta
from canteen.menu import service as menu
from canteen.menu.cache import SlotView
from canteen.menu.catalogue import Catalogue, ItemInfo
from canteen.menu.models import CanteenConfig, MenuItem
from canteen.orders.errors import (
    DeliveryDisabled,
    OrderingPaused,
    PaymentMethodDisabled,
    RestaurantClosed,
)
from canteen.orders.idempotency import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    IdempotencyStore,
    fingerprint,
    parse_key,
)
from canteen.orders.models import (
    Order,
    OrderStatus,
    OrderType,
    PaymentMethod,
    PaymentStatus,
)
from canteen.orders.no_shows import cash_enabled_for, check_cash_allowed
from canteen.orders.opening import KitchenRows, opening_read
from canteen.orders.order_rows import (
    finish_order,
    insert_lines,
    line_values,
    order_values,
    place_in_one,
)
from canteen.orders.pricing import (
    ItemUnavailable,
    OrderTooLarge,
    PriceChanged,
    PricedLine,
    check_option_counts,
    check_prices,
    check_size,
    missing_options,
    price_lines,
)
from canteen.orders.schemas import MAX_PER_DISH, OrderCreate
from canteen.orders.stock import announce_stock, take_stock
from canteen.users.models import User

# Statements every placement runs, built once: building a statement per call (and its
# cache key) costs more CPU than running it.
_STOCK_LEFT = select(MenuItem.id, MenuItem.stock_remaining).where(
    MenuItem.id.in_(bindparam("ids", expanding=True))
)


# Re-exported: callers catch them from here.
__all__ = ["ItemUnavailable", "OrderTooLarge", "PriceChanged", "place_order"]


async def place_order(
    c: Container, session: AsyncSession, user_id: uuid.UUID, body: OrderCreate, raw_key: str | None
) -> tuple[Order, bool | None]:
    """Places the order of the account `user_id` (its token checked, its row not yet read:
    the opening read takes it). Returns (order, cash_enabled): whether its customer may pay
    cash, by the settings the order was placed under. A replay of a finished request
    returns (order, None)."""
    key = parse_key(raw_key)
    request_hash = fingerprint(body.model_dump(mode="json"))
    store = IdempotencyStore(c.kv)
    order_id = uuid.uuid4()  # chosen first: the key's claim names the order it places
    claim = await store.claim(user_id, key, request_hash, order_id)
    if not claim.owned:
        assert claim.order_id is not None
        usable_account(await load_account(session, user_id))
        existing = await session.get(Order, claim.order_id)
        if existing is None:  # not committed yet, or failing (its key is then freed)
            raise IdempotencyInProgress()
        return existing, None
    try:
        # The claim lasts a minute; then (or if the store forgot) the order row remembers.
        opening = await opening_read(c, session, user_id, key, body)
        user = usable_account(opening.account)
        earlier_id = opening.earlier_id
        existing = await session.get(Order, earlier_id) if earlier_id is not None else None
        if existing is None:
            order, cash_enabled = await _create(
                c,
                session,
                opening.config,
                user,
                body,
                key,
                request_hash,
                opening.kitchen,
                order_id,
            )
            return order, cash_enabled
        if existing.request_hash != request_hash:
            raise IdempotencyKeyReused()
    except BaseException:
        await store.release(user_id, key)
        raise
    # This claim names an order that will never be: free the key, so that retries within
    # its minute read the earlier order from its row instead of waiting for this one.
    await store.release(user_id, key)
    return existing, None


async def _create(
    c: Container,
    session: AsyncSession,
    config: CanteenConfig,
    user: User,
    body: OrderCreate,
    key: str,
    request_hash: str,
    kitchen: KitchenRows | None,
    order_id: uuid.UUID,
) -> tuple[Order, bool]:
    """Checks (all problems of a kind at once), prices, takes stock, numbers the order."""
    _check_open(config, body)
    check_cash_allowed(config, user, body.payment_method)  # the no-show limit (issue 16)
    tz = ZoneInfo(c.settings.timezone)
    now = c.clock.now()
    catalogue = await c.catalogue.get(session, config.catalogue_version)
    slot = _resolve_slot(catalogue, body.time_slot, now, tz)
    wanted, known, stock = await _check_items(session, catalogue, slot, body)
    check_option_counts(body.items, known)
    priced = price_lines(body.items, known)
    delivery_fee = config.delivery_fee if body.order_type == OrderType.delivery else 0
    check_size(config, priced, delivery_fee)
    total = check_prices(body, priced, delivery_fee)
    sold_out = await take_stock(session, wanted, stock, known)

    lines = _order_lines(order_id, body, priced)
    cash = body.payment_method == PaymentMethod.cash
    business_date = now.astimezone(tz).date()
    # Everything but the window, the estimate and the number is made before any row is
    # written: the common order is then one statement (on PostgreSQL), any other takes the
    # hot rows after its lines, and between the first of them and the commit only the
    # order's INSERT and its event's run, both precompiled.
    row = order_values(
        id=order_id,
        business_date=business_date,
        customer_id=user.id,
        status=OrderStatus.confirmed if cash else OrderStatus.received,
        payment_method=body.payment_method,
        payment_status=PaymentStatus.cash_due if cash else PaymentStatus.pending,
        order_type=body.order_type,
        delivery_address=(body.delivery_address or "").strip() or None
        if body.order_type == OrderType.delivery
        else None,
        time_slot=slot.code,
        instructions=(body.instructions or "").strip() or None,
        subtotal=total - delivery_fee,
        delivery_fee=delivery_fee,
        total=total,
        currency=config.currency,
        pickup_code=f"{secrets.randbelow(10_000):04d}",
        prep_minutes=max(line["prep_minutes"] for line in lines),
        idempotency_key=key,
        request_hash=request_hash,
        confirmed_at=now if cash else None,
        created_at=now,
        updated_at=now,
    )
    event_data = _created_data(row, lines)
    plan = await _plan_kitchen(session, now, tz, slot, body, lines, kitchen)
    order = await _write_order(
        session, row, lines, event_data, plan, slot, sold_out, now=now, tz=tz, actor_id=user.id
    )
    return order, cash_enabled_for(config, user.no_show_count)


async def _write_order(
    session: AsyncSession,
    row: dict[str, Any],
    lines: list[dict[str, Any]],
    event_data: dict[str, Any],
    plan: _Kitchen,
    slot: SlotView,
    sold_out: list[ItemInfo] | None,
    *,
    now: datetime,
    tz: ZoneInfo,
    actor_id: uuid.UUID,
) -> Order:
    """Take the order's window, number it, write it with its lines and `order.created`:
    one statement for the common order on PostgreSQL, else the statements in turn."""
    business_date = row["business_date"]
    windows = plan.windows
    found_full = False
    if sold_out is None and windows and writes_in_one_with(session):
        # The common order (no counted stock): one statement, if a window has room.
        row.update(window_minutes=plan.cost)
        placed = await place_in_one(
            session,
            row,
            lines,
            slot_code=slot.code,
            windows=windows,
            capacity_minutes=plan.capacity,
            ready_from=plan.ready_from,
            business_date=business_date,
            event_data=event_data,
            actor_id=actor_id,
        )
        if placed is not None:
            return placed
        found_full = True  # nothing was written: the windows in turn, each under its lock
    await insert_lines(session, lines)
    # The kitchen window after the stock (locks always in this order), before the shared rows.
    reservation = await capacity.reserve(
        session,
        slot,
        windows,
        now=now,
        tz=tz,
        ready_from=plan.ready_from,
        cost=plan.cost,
        capacity=plan.capacity,
        found_full=found_full,
    )
    estimated_ready_at = eta.placement_estimate(plan.ready_from, reservation)
    # The shared rows last, just before the inserts and the commit: the settings row (the
    # menu version moves when stock does), then the day's counter row, taken by
    # finish_order as it writes the order with its number. Always in this order.
    if sold_out is not None:
        await announce_stock(session, [(item.id, item.name) for item in sold_out])
    row.update(
        estimated_ready_at=estimated_ready_at,
        promised_ready_at=estimated_ready_at,
        pickup_window_start=reservation.window.start,
        pickup_window_end=reservation.window.end,
        window_minutes=reservation.cost,
    )
    event_data["estimated_ready_at"] = iso_z(estimated_ready_at)
    return await finish_order(
        session, row, lines, business_date=business_date, event_data=event_data, actor_id=actor_id
    )


def _order_lines(
    order_id: uuid.UUID, body: OrderCreate, priced: list[PricedLine]
) -> list[dict[str, Any]]:
    """The order's lines as placed: names, prices and chosen options kept as they were."""
    return [
        line_values(
            id=uuid.uuid4(),
            order_id=order_id,
            position=position,
            menu_item_id=p.item.id,
            name=p.item.name,
            unit_price=p.unit_price,
            quantity=p.quantity,
            line_total=p.line_total,
            notes=(line.notes or "").strip() or None,
            prep_minutes=p.item.prep_minutes,
            options=p.options_snapshot(),
        )
        for position, (line, p) in enumerate(zip(body.items, priced, strict=True))
    ]


def _created_data(row: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The `order.created` event's data (its estimate is filled in once the window is)."""
    return {
        "order_type": row["order_type"],
        "payment_method": row["payment_method"],
        "total": row["total"],
        "time_slot": row["time_slot"],
        "items": [
            {
                "name": li["name"],
                "quantity": li["quantity"],
                "notes": li["notes"],
                "options": [o["name"] for o in li["options"]],
            }
            for li in lines
        ],
        "estimated_ready_at": None,
    }


def _check_open(config: CanteenConfig, body: OrderCreate) -> None:
    """The canteen takes this kind of order now, paid this way."""
    if not config.restaurant_open:
        raise RestaurantClosed()
    if config.ordering_paused:
        raise OrderingPaused()
    if body.order_type == OrderType.delivery and not config.delivery_enabled:
        raise DeliveryDisabled.now()
    method_on = {
        PaymentMethod.upi: config.upi_payment_enabled,
        PaymentMethod.cash: config.cash_payment_enabled,
    }[PaymentMethod(body.payment_method)]
    if not method_on:
        raise PaymentMethodDisabled.for_method(body.payment_method)
    if body.order_type == OrderType.delivery and not (body.delivery_address or "").strip():
        raise ValidationFailed(
            details=[
                field_error("delivery_address", "missing", "A delivery order needs an address")
            ]
        )


async def _check_items(
    session: AsyncSession, catalogue: Catalogue, slot: SlotView, body: OrderCreate
) -> tuple[Counter[uuid.UUID], dict[uuid.UUID, ItemInfo], dict[uuid.UUID, int | None]]:
    """Every dish known, on, sold in the slot and in stock, and every chosen option still
    there: all problems at once as 409 ITEM_UNAVAILABLE. Returns the quantity per dish,
    the dishes, and the stock read for those with a daily count."""
    wanted = Counter[uuid.UUID]()
    for line in body.items:
        wanted[line.menu_item_id] += line.quantity
    _check_per_dish(wanted)
    items = {item_id: catalogue.items.get(item_id) for item_id in wanted}
    counted = [item_id for item_id, item in items.items() if item is not None and item.tracks_stock]
    stock: dict[uuid.UUID, int | None] = {}
    if counted:
        rows = await session.execute(_STOCK_LEFT, {"ids": counted})
        stock = {item_id: left for item_id, left in rows.tuples()}

    problems: list[dict[str, Any]] = []
    for item_id, quantity in wanted.items():
        item = items[item_id]
        left = stock.get(item_id)
        if item is None:
            problems.append({"menu_item_id": str(item_id), "reason": "not_found"})
        elif not item.orderable:
            problems.append(
                {"menu_item_id": str(item_id), "reason": "unavailable", "name": item.name}
            )
        elif slot.id not in item.slot_ids:
            problems.append(
                {
                    "menu_item_id": str(item_id),
                    "reason": "not_in_time_slot",
                    "name": item.name,
                    "time_slot": slot.code,
                }
            )
        elif left is not None and left < quantity:
            problems.append(
                {
                    "menu_item_id": str(item_id),
                    "reason": "out_of_stock",
                    "name": item.name,
                    "available": max(0, left),
                }
            )
    known = {item_id: item for item_id, item in items.items() if item is not None}
    problems.extend(missing_options(body.items, known))
    if problems:
        raise ItemUnavailable(details=problems)
    return wanted, known, stock


def _check_per_dish(wanted: Counter[uuid.UUID]) -> None:
    """The per-line cap also holds for one dish spread over several lines."""
    over = [item_id for item_id, quantity in wanted.items() if quantity > MAX_PER_DISH]
    if over:
        raise ValidationFailed(
            details=[
                field_error(
                    "items",
                    "too_many_of_one_dish",
                    f"At most {MAX_PER_DISH} of one dish per order",
                    menu_item_id=str(item_id),
                )
                for item_id in over
            ]
        )


def _resolve_slot(catalogue: Catalogue, code: str | None, now: datetime, tz: ZoneInfo) -> SlotView:
    if code is not None:
        slot = catalogue.slot(code)
        if slot is None or not slot.is_active:
            raise ValidationFailed(
                details=[
                    field_error("time_slot", "unknown_slot", f"No active time slot called {code!r}")
                ]
            )
        return slot
    current = menu.current_slot(catalogue.slots, now, tz)
    if current is None:
        raise ValidationFailed(
            details=[
                field_error("time_slot", "required", "No time slot is being served now; choose one")
            ]
        )
    return current


@dataclass(frozen=True, slots=True)
class _Kitchen:
    """Where the order may go in the kitchen, before any window is taken."""

    windows: list[capacity.Window]  # those it may take, earliest first
    capacity: int  # the slot's kitchen minutes per window
    cost: int  # the order's kitchen minutes
    ready_from: datetime  # the soonest its food can be ready


async def _plan_kitchen(
    session: AsyncSession,
    now: datetime,
    tz: ZoneInfo,
    slot: SlotView,
    body: OrderCreate,
    lines: list[dict[str, Any]],
    kitchen: KitchenRows | None,
) -> _Kitchen:
    """The windows the order may take (kitchen.capacity) and what its estimate starts from
    (kitchen.eta): the dishes' measured cooking time. The kitchen read made with the
    settings serves if it was made for this slot."""
    if kitchen is not None and kitchen.slot_code == slot.code:
        minutes, measured = eta.settle_kitchen_read(kitchen.rows)
    else:
        minutes, measured = await eta.capacity_and_stage_seconds(
            session, slot.code, (li["menu_item_id"] for li in lines)
        )
    own = eta.own_seconds(((li["menu_item_id"], li["prep_minutes"]) for li in lines), measured)
    ready_from = now + timedelta(seconds=own)
    picked = time.fromisoformat(body.pickup_window) if body.pickup_window else None
    windows = capacity.windows_for(slot, now=now, tz=tz, ready_from=ready_from, picked=picked)
    cost = capacity.order_cost([(li["prep_minutes"], li["quantity"]) for li in lines], minutes)
    return _Kitchen(windows, minutes, cost, ready_from)
