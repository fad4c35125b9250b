"""A placement's opening read (issue 20): one round trip for what every placement reads
before it checks anything, sent straight to the driver (`canteen.core.direct`):

- the customer's account, made the session's `User` (the route checked only the token:
  the placement checks the account is usable, as every other route's first read does);
- the settings row, made the session's `CanteenConfig` as a query loads it;
- the order an earlier request with the same idempotency key placed, if any;
- the kitchen read of the order's slot and dishes (`kitchen.eta.with_kitchen_read`), one
  row per measured dish, for the slot the order names or, naming none, the one most likely
  (checked by the placement once the slot is resolved).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.auth.deps import load_account
from canteen.core.container import Container
from canteen.core.direct import DirectStatement, Loaded
from canteen.kitchen import eta
from canteen.menu import service as menu
from canteen.menu.config import CONFIG_ID
from canteen.menu.models import CanteenConfig
from canteen.orders.models import Order
from canteen.orders.schemas import OrderCreate
from canteen.users.models import User

_BY_IDEMPOTENCY_KEY = select(Order.id).where(
    Order.customer_id == bindparam("customer_id"), Order.idempotency_key == bindparam("key")
)
_CONFIG: Table = CanteenConfig.__table__  # type: ignore[assignment]
_USERS: Table = User.__table__  # type: ignore[assignment]
# The account outer-joined: a missing account still reads the settings (and is refused).
_SOURCE = _CONFIG.outerjoin(_USERS, _USERS.c.id == bindparam("customer_id"))
_SETTINGS = select(*_CONFIG.columns, *_USERS.columns, _BY_IDEMPOTENCY_KEY.scalar_subquery())
_SETTINGS_WIDTH = len(_CONFIG.columns)
_ACCOUNT_END = _SETTINGS_WIDTH + len(_USERS.columns)
_LOADED_CONFIG = Loaded(CanteenConfig, list(_SETTINGS.selected_columns)[:_SETTINGS_WIDTH])
_LOADED_USER = Loaded(User, list(_SETTINGS.selected_columns)[_SETTINGS_WIDTH:_ACCOUNT_END])
_USER_ID = _SETTINGS_WIDTH + list(_USERS.columns).index(_USERS.c.id)
# Compiled once per count of distinct dishes: at most MAX_LINES statements.
_OPENING_READS: dict[int, DirectStatement] = {}


@dataclass(frozen=True, slots=True)
class Opening:
    config: CanteenConfig
    account: User | None  # None: no such account
    earlier_id: uuid.UUID | None  # the order an earlier request with the key placed
    kitchen: KitchenRows | None


@dataclass(frozen=True, slots=True)
class KitchenRows:
    """What the opening read found of the kitchen, for the slot it guessed."""

    slot_code: str | None  # the slot it was read for (None: no guess)
    rows: list[tuple[Any, ...]]  # the kitchen read's columns only


async def opening_read(
    c: Container, session: AsyncSession, customer_id: uuid.UUID, key: str, body: OrderCreate
) -> Opening:
    dishes = list(dict.fromkeys(line.menu_item_id for line in body.items))
    read = _OPENING_READS.get(len(dishes))
    if read is None:
        opening = eta.with_kitchen_read(_SETTINGS, _SOURCE, len(dishes))
        # A plain read (no lock): it begins no transaction, so the common placement, one
        # statement after it (`order_rows.place_in_one`), sends no BEGIN and no COMMIT.
        read = _OPENING_READS[len(dishes)] = DirectStatement(
            opening.where(_CONFIG.c.id == CONFIG_ID), in_transaction=False
        )
    slot_code = body.time_slot or _likely_slot_code(c)
    params = {"customer_id": customer_id, "key": key, **eta.kitchen_params(slot_code, dishes)}
    rows = await read.rows(session, params)
    if rows:
        first = rows[0]
        config = await _LOADED_CONFIG.attach(session, first[:_SETTINGS_WIDTH])
        account = None
        if first[_USER_ID] is not None:
            account = await _LOADED_USER.attach(session, first[_SETTINGS_WIDTH:_ACCOUNT_END])
        kitchen = [row[_ACCOUNT_END + 1 :] for row in rows]
        return Opening(config, account, first[_ACCOUNT_END], KitchenRows(slot_code, kitchen))
    # No settings row (a wiped table): get_config makes it with the defaults.
    account = await load_account(session, customer_id)
    config = await menu.get_config(session)
    return Opening(config, account, await session.scalar(_BY_IDEMPOTENCY_KEY, params), None)


def _likely_slot_code(c: Container) -> str | None:
    """The slot an order that names none is for, before the settings say which catalogue
    is current: the one being served now by the newest catalogue this process holds. A
    guess, checked once the slot is resolved (`placement._reserve_window`)."""
    catalogue = c.catalogue.latest
    if catalogue is None:
        return None
    slot = menu.current_slot(catalogue.slots, c.clock.now(), ZoneInfo(c.settings.timezone))
    return slot.code if slot is not None else None
