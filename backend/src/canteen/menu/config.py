"""The canteen's settings row and the menu version every API process checks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.direct import DirectStatement, Loaded
from canteen.core.errors import ValidationFailed, field_error
from canteen.events.service import record_event
from canteen.events.types import EventType
from canteen.menu.invalidation import flag_session
from canteen.menu.models import CanteenConfig
from canteen.menu.schemas import ConfigUpdate, PublicConfig, PublicTimeSlot

CONFIG_ID = 1
DEFAULTS: dict[str, Any] = {
    "delivery_enabled": True,
    "cash_payment_enabled": True,
    "upi_payment_enabled": True,
    "restaurant_open": True,
    "ordering_paused": False,
    "delivery_fee": 2000,
    "currency": "INR",
    "max_items_per_order": 20,
    "max_order_total": 200000,
    "ready_sms_enabled": False,
    "collection_window_minutes": 30,
    "no_show_cash_limit": None,
    "menu_version": 1,
}


# Built once and sent by the direct path (issue 20: read by most requests, as the answer
# to a customer's order says whether cash is taken): see canteen.users.deps._ACCOUNT.
_SETTINGS: Table = CanteenConfig.__table__  # type: ignore[assignment]
_CONFIG = DirectStatement(
    select(_SETTINGS).where(_SETTINGS.c.id == CONFIG_ID), in_transaction=False
)
_LOADED_CONFIG = Loaded(CanteenConfig, _CONFIG.columns)


async def get_config(session: AsyncSession) -> CanteenConfig:
    """The settings row, as a query returns it (the session's own object if it holds one);
    created with the defaults if it is missing (the migration writes it, but a wiped table
    must not break the API)."""
    rows = await _CONFIG.rows(session, {})
    if rows:
        return await _LOADED_CONFIG.attach(session, rows[0])
    config: CanteenConfig | None = CanteenConfig(id=CONFIG_ID, **DEFAULTS)
    try:
        async with session.begin_nested():
            session.add(config)
    except IntegrityError:
        # Another transaction created it first.
        config = await session.get(CanteenConfig, CONFIG_ID, populate_existing=True)
    assert config is not None
    return config


_BUMP_MENU = (
    update(CanteenConfig)
    .where(CanteenConfig.id == CONFIG_ID)
    .values(menu_version=CanteenConfig.menu_version + 1)
    .returning(CanteenConfig.menu_version)
)
_BUMP_MENU_AND_CATALOGUE = _BUMP_MENU.values(catalogue_version=CanteenConfig.catalogue_version + 1)


async def bump_menu_version(session: AsyncSession) -> int:
    """A staff edit of the menu: increment `menu_version` and `catalogue_version` in the
    caller's transaction; returns the new menu version.

    Readers in every process compare them before serving cached menu bytes or using
    their cached catalogue, so the bump must commit together with the change it
    announces (never before it).
    """
    return await _bump(session, _BUMP_MENU_AND_CATALOGUE)


async def mark_menu_changed(session: AsyncSession) -> int:
    """Call in the same transaction as an order taking or giving back `stock_remaining`:
    the menu ETags then move on commit (the order catalogue, which holds no stock, stays).
    Returns the new menu version."""
    return await _bump(session, _BUMP_MENU)


async def _bump(session: AsyncSession, stmt: Any) -> int:
    version = await session.scalar(stmt)
    if version is None:
        await get_config(session)
        version = await session.scalar(stmt)
    assert version is not None
    flag_session(session)  # on commit: invalidate the menu caches (canteen.menu.invalidation)
    return int(version)


async def update_config(
    session: AsyncSession, body: ConfigUpdate, *, actor_id: uuid.UUID
) -> CanteenConfig:
    config = await get_config(session)
    await session.refresh(config, with_for_update=True)
    requested = body.model_dump(exclude_unset=True)
    after = {field: requested.get(field, getattr(config, field)) for field in DEFAULTS}
    if not after["cash_payment_enabled"] and not after["upi_payment_enabled"]:
        fields = [f for f in ("cash_payment_enabled", "upi_payment_enabled") if f in requested] or [
            "cash_payment_enabled",
            "upi_payment_enabled",
        ]
        raise ValidationFailed(
            "At least one payment method must stay on",
            details=[
                field_error(
                    field,
                    "no_payment_method",
                    "Customers need at least one way to pay: keep cash or UPI on",
                )
                for field in fields
            ],
        )
    changes = {f: v for f, v in requested.items() if getattr(config, f) != v}
    if not changes:
        return config
    for field, value in changes.items():
        setattr(config, field, value)
    await session.flush()
    await record_event(
        session,
        EventType.config_updated,
        data={"section": "settings", "changes": changes},
        actor_id=actor_id,
    )
    return config


async def public_config(
    session: AsyncSession, *, now: datetime, timezone: str, razorpay_key_id: str
) -> PublicConfig:
    from canteen.menu.slots import active_slots_to_show, current_slot

    config = await get_config(session)
    slots = await active_slots_to_show(session)
    current = current_slot(slots, now, timezone)
    return PublicConfig(
        delivery_enabled=config.delivery_enabled,
        cash_payment_enabled=config.cash_payment_enabled,
        upi_payment_enabled=config.upi_payment_enabled,
        restaurant_open=config.restaurant_open,
        ordering_paused=config.ordering_paused,
        delivery_fee=config.delivery_fee,
        currency=config.currency,
        max_items_per_order=config.max_items_per_order,
        max_order_total=config.max_order_total,
        ready_sms_enabled=config.ready_sms_enabled,
        accepting_orders=config.restaurant_open and not config.ordering_paused,
        razorpay_key_id=razorpay_key_id,
        timezone=timezone,
        time_slots=[PublicTimeSlot.model_validate(s) for s in slots],
        current_time_slot=current.code if current else None,
        server_time=now,
    )
