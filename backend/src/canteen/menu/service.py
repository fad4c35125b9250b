"""Menu administration: categories, items, availability, stock and item images.

Every change bumps the menu version and records a `menu.updated` event in the caller's
transaction; nothing here commits. The settings row and time slots live in
`canteen.menu.config` and `canteen.menu.slots`; their public functions are re-exported
here so other domains import one module.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from canteen.core.db import after_commit
from canteen.core.errors import NotFound, ValidationFailed, field_error
from canteen.events.service import record_event
from canteen.events.types import EventType
from canteen.menu.config import bump_menu_version, get_config, mark_menu_changed, update_config
from canteen.menu.errors import CategoryNotEmpty
from canteen.menu.images import ImageRejected, delete_item_image, process_image, store_item_image
from canteen.menu.models import Allergen, Category, MenuItem, TimeSlot
from canteen.menu.options import normalise_groups
from canteen.menu.schemas import (
    CategoryCreate,
    CategoryUpdate,
    MenuItemCreate,
    MenuItemUpdate,
)
from canteen.menu.slots import (
    create_slot,
    current_slot,
    delete_slot,
    list_slots,
    slot_by_code,
    update_slot,
)
from canteen.storage.base import Storage

__all__ = [
    "bump_menu_version",
    "create_category",
    "create_item",
    "create_slot",
    "current_slot",
    "delete_category",
    "delete_item",
    "delete_slot",
    "get_config",
    "get_item",
    "list_categories",
    "list_items",
    "list_slots",
    "mark_menu_changed",
    "remove_item_image",
    "reset_daily_stock",
    "set_availability",
    "set_item_image",
    "set_option_availability",
    "slot_by_code",
    "update_category",
    "update_config",
    "update_item",
    "update_slot",
]

log = logging.getLogger("canteen.menu")

_ALLERGEN_ORDER = {a.value: n for n, a in enumerate(Allergen)}


# ---- categories ----------------------------------------------------------------------


async def list_categories(session: AsyncSession) -> list[Category]:
    return list(
        await session.scalars(
            select(Category).order_by(Category.sort_order, Category.name, Category.id)
        )
    )


async def create_category(
    session: AsyncSession, body: CategoryCreate, *, actor_id: uuid.UUID
) -> Category:
    category = Category(id=uuid.uuid4(), **body.model_dump())
    session.add(category)
    await session.flush()
    await _announce(session, "category", "created", category.id, list(body.model_dump()), actor_id)
    return category


async def update_category(
    session: AsyncSession, category_id: uuid.UUID, body: CategoryUpdate, *, actor_id: uuid.UUID
) -> Category:
    category = await _get_category(session, category_id)
    changes = {
        f: v for f, v in body.model_dump(exclude_unset=True).items() if getattr(category, f) != v
    }
    if changes:
        for field, value in changes.items():
            setattr(category, field, value)
        await session.flush()
        await _announce(session, "category", "updated", category.id, list(changes), actor_id)
    return category


async def delete_category(
    session: AsyncSession, category_id: uuid.UUID, *, actor_id: uuid.UUID
) -> None:
    category = await _get_category(session, category_id)
    items = await session.scalar(
        select(func.count()).select_from(MenuItem).where(MenuItem.category_id == category.id)
    )
    if items:
        raise CategoryNotEmpty(
            f"The category still has {items} item(s); move or delete them first, "
            "or deactivate the category instead",
            details=[{"category_id": str(category.id), "items": items}],
        )
    await session.delete(category)
    await session.flush()
    await _announce(session, "category", "deleted", category.id, [], actor_id)


async def _get_category(session: AsyncSession, category_id: uuid.UUID) -> Category:
    category = await session.get(Category, category_id, with_for_update=True)
    if category is None:
        raise NotFound("No category with this id")
    return category


# ---- items ---------------------------------------------------------------------------


async def list_items(
    session: AsyncSession, *, offset: int = 0, limit: int = 500
) -> tuple[list[MenuItem], int]:
    """Every item, whatever its category's state (the admin's view)."""
    total = await session.scalar(select(func.count()).select_from(MenuItem)) or 0
    rows = await session.scalars(
        select(MenuItem)
        .join(Category, Category.id == MenuItem.category_id)
        .options(selectinload(MenuItem.slots))
        .order_by(
            Category.sort_order, Category.name, MenuItem.sort_order, MenuItem.name, MenuItem.id
        )
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


async def get_item(session: AsyncSession, item_id: uuid.UUID, *, lock: bool = False) -> MenuItem:
    query = select(MenuItem).options(selectinload(MenuItem.slots)).where(MenuItem.id == item_id)
    if lock:
        query = query.with_for_update(of=MenuItem)
    item = await session.scalar(query)
    if item is None:
        raise NotFound("No menu item with this id")
    return item


async def create_item(
    session: AsyncSession, body: MenuItemCreate, *, actor_id: uuid.UUID
) -> MenuItem:
    problems: list[dict[str, Any]] = []
    await _check_category(session, body.category_id, problems)
    slots = await _resolve_slots(session, body.time_slots, problems)
    option_groups = normalise_groups(body.option_groups, problems)
    if problems:
        raise ValidationFailed(details=problems)
    values = body.model_dump(exclude={"time_slots", "allergens", "description", "option_groups"})
    item = MenuItem(
        id=uuid.uuid4(),
        **values,
        option_groups=option_groups,
        description=body.description or None,
        allergens=_allergens(body.allergens),
        image_keys=[],
        stock_remaining=body.daily_stock,
        slots=slots,
    )
    session.add(item)
    await session.flush()
    await _announce(session, "item", "created", item.id, list(body.model_dump()), actor_id)
    return item


async def update_item(
    session: AsyncSession, item_id: uuid.UUID, body: MenuItemUpdate, *, actor_id: uuid.UUID
) -> MenuItem:
    item = await get_item(session, item_id, lock=True)
    requested = body.model_dump(exclude_unset=True)
    problems: list[dict[str, Any]] = []
    if "category_id" in requested and requested["category_id"] != item.category_id:
        await _check_category(session, requested["category_id"], problems)
    slots: list[TimeSlot] | None = None
    if "time_slots" in requested:
        slots = await _resolve_slots(session, requested.pop("time_slots"), problems)
    if "option_groups" in requested:
        requested["option_groups"] = normalise_groups(body.option_groups or [], problems)
    if problems:
        raise ValidationFailed(details=problems)
    if "allergens" in requested:
        requested["allergens"] = _allergens(requested["allergens"])
    if "description" in requested:
        requested["description"] = requested["description"] or None
    if "daily_stock" in requested:
        # Setting the daily count (again) refills today's stock to it.
        requested["stock_remaining"] = requested["daily_stock"]
    changed = [f for f, v in requested.items() if getattr(item, f) != v]
    for field in changed:
        setattr(item, field, requested[field])
    if slots is not None and {s.id for s in slots} != {s.id for s in item.slots}:
        item.slots = slots
        changed.append("time_slots")
    if changed:
        await session.flush()
        await _announce(session, "item", "updated", item.id, changed, actor_id)
    return item


async def delete_item(
    session: AsyncSession, storage: Storage, item_id: uuid.UUID, *, actor_id: uuid.UUID
) -> None:
    item = await get_item(session, item_id, lock=True)
    keys = list(item.image_keys or [])
    await session.delete(item)
    await session.flush()
    await _announce(session, "item", "deleted", item.id, [], actor_id)
    if keys:
        _delete_files_after_commit(session, storage, keys)


async def set_availability(
    session: AsyncSession, item_id: uuid.UUID, is_available: bool, *, actor_id: uuid.UUID
) -> MenuItem:
    """The kitchen's "86" switch."""
    item = await get_item(session, item_id, lock=True)
    if item.is_available != is_available:
        item.is_available = is_available
        await session.flush()
        await _announce(
            session,
            "item",
            "availability_changed",
            item.id,
            ["is_available"],
            actor_id,
            extra={"is_available": is_available},
        )
    return item


async def set_option_availability(
    session: AsyncSession,
    item_id: uuid.UUID,
    option_id: uuid.UUID,
    is_available: bool,
    *,
    actor_id: uuid.UUID,
) -> MenuItem:
    """The "86" switch for one option (no cheese left: the cheese dosa is off)."""
    item = await get_item(session, item_id, lock=True)
    groups = copy.deepcopy(item.option_groups or [])
    option = next(
        (o for g in groups for o in g["options"] if o["id"] == str(option_id)),
        None,
    )
    if option is None:
        raise NotFound("The dish has no option with this id")
    if option["is_available"] != is_available:
        option["is_available"] = is_available
        item.option_groups = groups  # a new value: the JSON column sees the change
        await session.flush()
        await _announce(
            session,
            "item",
            "option_availability_changed",
            item.id,
            ["option_groups"],
            actor_id,
            extra={"option_id": str(option_id), "is_available": is_available},
        )
    return item


async def reset_daily_stock(session: AsyncSession, *, actor_id: uuid.UUID | None = None) -> int:
    """Refill every item with a daily count (start of the day); returns how many."""
    result = await session.execute(
        update(MenuItem)
        .where(
            MenuItem.daily_stock.is_not(None),
            MenuItem.stock_remaining.is_distinct_from(MenuItem.daily_stock),
        )
        .values(stock_remaining=MenuItem.daily_stock)
        .execution_options(synchronize_session="fetch")
    )
    refilled = int(getattr(result, "rowcount", 0) or 0)
    if refilled:
        version = await bump_menu_version(session)
        await record_event(
            session,
            EventType.menu_updated,
            data={
                "entity": "menu",
                "action": "stock_reset",
                "items": refilled,
                "menu_version": version,
            },
            actor_id=actor_id,
        )
    return refilled


# ---- images --------------------------------------------------------------------------


async def set_item_image(
    session: AsyncSession,
    storage: Storage,
    item_id: uuid.UUID,
    data: bytes,
    *,
    actor_id: uuid.UUID,
) -> MenuItem:
    """Validate and store a new image; the old files go once the change has committed.

    The image is decoded and re-encoded before the item is loaded and locked, so the
    row (and on SQLite the database) is not held while Pillow works.
    """
    try:
        processed = await asyncio.to_thread(process_image, data)
    except ImageRejected as exc:
        raise ValidationFailed(
            exc.message,
            details=[field_error("file", exc.reason, exc.message)],
        ) from exc
    item = await get_item(session, item_id, lock=True)
    stored = await store_item_image(storage, str(item.id), processed)
    old_keys = [k for k in (item.image_keys or []) if k not in stored.keys]
    if not old_keys and item.image_url == stored.image_url:
        return item  # the same picture again: same keys, same URLs, nothing changed
    try:
        item.image_url = stored.image_url
        item.thumbnail_url = stored.thumbnail_url
        item.image_keys = stored.keys
        await session.flush()
        await _announce(
            session,
            "item",
            "image_changed",
            item.id,
            ["image_url", "thumbnail_url"],
            actor_id,
            extra={"image_url": stored.image_url, "thumbnail_url": stored.thumbnail_url},
        )
    except BaseException:
        await _delete_quietly(storage, stored.keys)
        raise
    if old_keys:
        _delete_files_after_commit(session, storage, old_keys)
    return item


async def remove_item_image(
    session: AsyncSession, storage: Storage, item_id: uuid.UUID, *, actor_id: uuid.UUID
) -> MenuItem:
    item = await get_item(session, item_id, lock=True)
    keys = list(item.image_keys or [])
    if not keys and item.image_url is None:
        return item
    item.image_url = None
    item.thumbnail_url = None
    item.image_keys = []
    await session.flush()
    await _announce(
        session,
        "item",
        "image_changed",
        item.id,
        ["image_url", "thumbnail_url"],
        actor_id,
        extra={"image_url": None, "thumbnail_url": None},
    )
    if keys:
        _delete_files_after_commit(session, storage, keys)
    return item


def _delete_files_after_commit(session: AsyncSession, storage: Storage, keys: list[str]) -> None:
    async def delete() -> None:
        await _delete_quietly(storage, keys)

    after_commit(session, delete)


async def _delete_quietly(storage: Storage, keys: list[str]) -> None:
    # The change is committed (or being undone) either way: a file that could not be
    # removed is an orphan, logged, never an error for the caller.
    try:
        await delete_item_image(storage, keys)
    except Exception:
        log.exception("could not delete image files %s", keys)


# ---- helpers -------------------------------------------------------------------------


async def _check_category(
    session: AsyncSession, category_id: uuid.UUID, problems: list[dict[str, Any]]
) -> None:
    if await session.get(Category, category_id) is None:
        problems.append(
            field_error("category_id", "unknown_category", f"No category with id {category_id}")
        )


async def _resolve_slots(
    session: AsyncSession, codes: list[str], problems: list[dict[str, Any]]
) -> list[TimeSlot]:
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        problems.append(
            field_error("time_slots", "required", "An item must be sold in at least one time slot")
        )
        return []
    slots = {
        s.code: s for s in await session.scalars(select(TimeSlot).where(TimeSlot.code.in_(wanted)))
    }
    unknown = [c for c in wanted if c not in slots]
    if unknown:
        problems.append(
            field_error(
                "time_slots",
                "unknown_time_slot",
                "No time slot called " + ", ".join(repr(c) for c in unknown),
                unknown=unknown,
            )
        )
    # Stored and shown in serving order, whatever order the request listed them in.
    return sorted(
        (slots[c] for c in wanted if c in slots), key=lambda s: (s.sort_order, s.start_time)
    )


def _allergens(values: list[Allergen] | list[str]) -> list[str]:
    return sorted({str(v) for v in values}, key=_ALLERGEN_ORDER.__getitem__)


async def _announce(
    session: AsyncSession,
    entity: str,
    action: str,
    entity_id: uuid.UUID,
    fields: list[str],
    actor_id: uuid.UUID | None,
    *,
    extra: dict[str, Any] | None = None,
) -> None:
    version = await bump_menu_version(session)
    await record_event(
        session,
        EventType.menu_updated,
        data={
            "entity": entity,
            "action": action,
            "id": str(entity_id),
            "changes": fields,
            "menu_version": version,
            **(extra or {}),
        },
        actor_id=actor_id,
    )
