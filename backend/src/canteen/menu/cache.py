"""The public menu's read path: a version check, an in-process snapshot, cached bytes.

How a `GET /menu/...` is answered:

1. The menu version: every menu change bumps `canteen_config.menu_version` in its own
   transaction. The cache trusts the version it last read until it is told otherwise
   (`canteen.menu.invalidation`: at once in this process, over Redis pub/sub from other
   processes) or the check is older than `max_age`; then `VersionGate.current()` reads
   it again. The gate shares one query between concurrent requests, but a request only
   joins a query that starts after it arrived: nothing committed before is missed.
2. `MenuCache.snapshot()` returns the in-process snapshot of the public menu if it is at
   least that version; otherwise one task reloads it (one REPEATABLE READ transaction on
   PostgreSQL, one SQLite transaction: version and rows agree).
3. The response bytes are encoded once per (snapshot version, query, current slot) and
   kept in a bounded LRU. The ETag is a hash of those bytes: it changes exactly when
   what the response shows changes, and is the same in every process.
4. `If-None-Match` (a list, weak or strong tags, or `*`) that matches → 304, no body.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import math
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from starlette.responses import Response

from canteen.core.clock import Clock
from canteen.core.errors import NotFound, ValidationFailed, field_error
from canteen.menu.invalidation import CHANNEL, database_key, register_cache
from canteen.menu.models import CanteenConfig, Category, MenuItem, TimeSlot
from canteen.menu.queries import CURRENT, ItemParams, PageParams, ParsedQueries, parse_params
from canteen.menu.schemas import CategoryOut, MenuItemOut
from canteen.menu.slots import current_slot

CACHE_CONTROL = "no-cache"  # clients keep the body and revalidate with If-None-Match
MAX_CACHED_RESPONSES = 512
log = logging.getLogger("canteen.menu")
_VERSION_QUERY = select(CanteenConfig.menu_version).where(CanteenConfig.id == 1)


# ---- the cross-process version check -------------------------------------------------


class VersionGate:
    """Coalesced reads of a value that must never be stale on arrival."""

    def __init__(self, read: Callable[[], Awaitable[int]]) -> None:
        self._read = read
        self._next: asyncio.Future[int] | None = None  # the round not yet started
        self._runner: asyncio.Task[None] | None = None

    async def current(self) -> int:
        future = self._next
        if future is None:
            future = self._next = asyncio.get_running_loop().create_future()
            future.add_done_callback(_consume_exception)
            if self._runner is None or self._runner.done():
                self._runner = asyncio.create_task(self._run(), name="menu-version-gate")
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while self._next is not None:
            # Take the waiting round; whoever arrives from now on waits for the next read.
            future, self._next = self._next, None
            try:
                value = await self._read()
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(value)


def _consume_exception(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # the waiters re-raise it; don't warn about it at GC


# ---- the snapshot --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemView:
    id: uuid.UUID
    category_id: uuid.UUID
    diet: str
    allergens: frozenset[str]
    slot_codes: frozenset[str]
    name_key: str
    sold_out: bool
    data: dict[str, Any]  # the MenuItemOut JSON shape


@dataclass(frozen=True, slots=True)
class SlotView:
    """A time slot as the menu cache and order placement's catalogue keep it."""

    id: uuid.UUID
    code: str
    start_time: time
    end_time: time
    is_active: bool
    sort_order: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    categories: list[dict[str, Any]]
    items: list[ItemView]
    items_by_id: dict[uuid.UUID, ItemView]
    slots: list[SlotView]
    slot_codes: frozenset[str]


async def load_snapshot(sessionmaker: async_sessionmaker[AsyncSession]) -> Snapshot:
    """The public menu: active categories and their items, with every time slot."""
    async with sessionmaker() as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for the version and the rows.
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        version = int(await session.scalar(_VERSION_QUERY) or 0)
        categories = list(
            await session.scalars(
                select(Category)
                .where(Category.is_active.is_(True))
                .order_by(Category.sort_order, Category.name, Category.id)
            )
        )
        rank = {c.id: n for n, c in enumerate(categories)}
        items = sorted(
            await session.scalars(
                select(MenuItem)
                .options(selectinload(MenuItem.slots))
                .where(MenuItem.category_id.in_(list(rank)))
            ),
            key=lambda i: (rank[i.category_id], i.sort_order, i.name, str(i.id)),
        )
        slots = list(await session.scalars(select(TimeSlot)))
        # Encoded while the rows are in hand; closing the session ends the read.
        return _snapshot(version, categories, items, slots)


def _snapshot(
    version: int, categories: list[Category], items: list[MenuItem], slots: list[TimeSlot]
) -> Snapshot:
    views = [
        ItemView(
            id=item.id,
            category_id=item.category_id,
            diet=item.diet,
            allergens=frozenset(item.allergens),
            slot_codes=frozenset(s.code for s in item.slots),
            name_key=item.name.casefold(),
            sold_out=item.sold_out,
            data=MenuItemOut.of(item).model_dump(mode="json"),
        )
        for item in items
    ]
    return Snapshot(
        version=version,
        categories=[CategoryOut.model_validate(c).model_dump(mode="json") for c in categories],
        items=views,
        items_by_id={v.id: v for v in views},
        slots=[
            SlotView(s.id, s.code, s.start_time, s.end_time, s.is_active, s.sort_order)
            for s in slots
        ],
        slot_codes=frozenset(s.code for s in slots),
    )


# ---- queries and encoded responses ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemQuery:
    category_id: uuid.UUID | None = None
    time_slot: str | None = None  # a slot code, or "current"
    diets: frozenset[str] = frozenset()
    allergen_free: frozenset[str] = frozenset()
    q: str | None = None  # already casefolded
    available: bool | None = None
    page: int = 1
    per_page: int = 500


def item_query(raw: bytes) -> ItemQuery:
    params = parse_params(ItemParams, raw)
    assert isinstance(params, ItemParams)
    slot = (params.time_slot or "").strip().lower()
    q = (params.q or "").strip().casefold()
    return ItemQuery(
        category_id=params.category_id,
        time_slot=slot or None,
        diets=frozenset(d.value for d in params.diet),
        allergen_free=frozenset(a.value for a in params.allergen_free),
        q=q or None,
        available=params.available,
        page=params.page,
        per_page=params.per_page,
    )


def page_query(raw: bytes) -> tuple[int, int]:
    params = parse_params(PageParams, raw)
    return params.page, params.per_page


@dataclass(frozen=True, slots=True)
class Encoded:
    body: bytes
    etag: str
    headers_200: tuple[tuple[bytes, bytes], ...]
    headers_304: tuple[tuple[bytes, bytes], ...]


def encode(payload: Any) -> Encoded:
    body = orjson.dumps(payload)
    digest = hashlib.blake2b(body, digest_size=15).digest()
    etag = '"' + base64.urlsafe_b64encode(digest).decode() + '"'
    common = ((b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL.encode()))
    return Encoded(
        body,
        etag,
        headers_200=(
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            *common,
        ),
        headers_304=common,
    )


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison, a comma-separated list, or `*`."""
    if not if_none_match:
        return False
    if if_none_match == etag:
        return True
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        if candidate.strip().removeprefix("W/") == opaque:
            return True
    return False


class CachedResponse(Response):
    """A response from pre-encoded bytes and pre-built headers (no per-request work)."""

    def __init__(self, status_code: int, body: bytes, headers: tuple[tuple[bytes, bytes], ...]):
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = list(headers)  # a fresh list: middleware may append to it


def respond(encoded: Encoded, if_none_match: str | None) -> Response:
    if etag_matches(if_none_match, encoded.etag):
        return CachedResponse(304, b"", encoded.headers_304)
    return CachedResponse(200, encoded.body, encoded.headers_200)


class MenuCache:
    """One per process (the container owns it)."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        timezone: str,
        *,
        redis: Redis | None = None,
        max_age: float = 1.0,
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.tz = ZoneInfo(timezone)
        self.redis = redis
        self.max_age = max_age
        self.key = database_key(engine)
        self.gate = VersionGate(self._read_version)
        self._snapshot: Snapshot | None = None
        self._loading: asyncio.Task[Snapshot] | None = None
        self._responses: OrderedDict[Hashable, Encoded] = OrderedDict()
        self._item_queries = ParsedQueries(item_query)
        self._page_queries = ParsedQueries(page_query)
        # Freshness: the version read last, when that read started, and the invalidation
        # count it saw. Any invalidation (or age) sends the next request to the gate.
        self._version = 0
        self._generation = 0
        self._checked_generation = -1
        self._checked_at = -math.inf
        # Without Redis this is the only API process: local invalidation is complete.
        self._subscribed = redis is None
        self._listener: asyncio.Task[None] | None = None
        register_cache(self.key, self)

    def invalidate(self) -> None:
        self._generation += 1

    async def current_version(self) -> int:
        if self.redis is not None and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="menu-invalidations")
        if (
            self._subscribed
            and self._checked_generation == self._generation
            and self.clock.timestamp() - self._checked_at < self.max_age
        ):
            return self._version
        return await self.gate.current()

    async def _read_version(self) -> int:
        generation, started = self._generation, self.clock.timestamp()
        async with self.engine.connect() as conn:
            version = int(await conn.scalar(_VERSION_QUERY) or 0)
        self._version = max(self._version, version)
        self._checked_generation, self._checked_at = generation, started
        return version

    async def _listen(self) -> None:
        """Invalidate on every announced menu change; trust nothing while unsubscribed."""
        assert self.redis is not None
        delay = 0.1
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self._subscribed = True
                self.invalidate()  # whatever was announced before we listened
                delay = 0.1
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message and message.get("data") in (self.key, self.key.encode()):
                        self.invalidate()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("menu invalidation subscription lost; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                self._subscribed = self.redis is None
                with contextlib.suppress(Exception):  # being dropped anyway
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None

    async def snapshot(self) -> Snapshot:
        """A snapshot no older than the menu version this process knows to be current."""
        version = await self.current_version()
        for _ in range(3):
            snap = self._snapshot
            if snap is not None and snap.version >= version:
                return snap
            if self._loading is None or self._loading.done():
                self._loading = asyncio.create_task(self._load(), name="menu-snapshot")
                self._loading.add_done_callback(_consume_exception)
            await asyncio.shield(self._loading)
        snap = self._snapshot
        assert snap is not None
        return snap

    async def _load(self) -> Snapshot:
        snap = await load_snapshot(self.sessionmaker)
        current = self._snapshot
        if current is None or snap.version >= current.version:
            if current is None or snap.version != current.version:
                self._responses.clear()
            self._snapshot = snap
        return snap

    def current_slot_code(self, snap: Snapshot) -> str | None:
        slot = current_slot(snap.slots, self.clock.now(), self.tz)
        return slot.code if slot else None

    def _cached(self, key: Hashable, build: Callable[[], Any]) -> Encoded:
        encoded = self._responses.get(key)
        if encoded is None:
            encoded = encode(build())
            self._responses[key] = encoded
            if len(self._responses) > MAX_CACHED_RESPONSES:
                self._responses.popitem(last=False)
        else:
            self._responses.move_to_end(key)
        return encoded

    # -- the three menu resources --

    async def categories(self, raw_query: bytes, if_none_match: str | None) -> Response:
        page, per_page = self._page_queries.get(raw_query)
        snap = await self.snapshot()

        def build() -> Any:
            return _page(snap.categories, page, per_page)

        key = (snap.version, "categories", page, per_page)
        return respond(self._cached(key, build), if_none_match)

    async def items(self, raw_query: bytes, if_none_match: str | None) -> Response:
        query = self._item_queries.get(raw_query)
        snap = await self.snapshot()
        slot: str | None = query.time_slot
        if slot == CURRENT:
            # The answer depends on the clock: the slot is part of the key (and the bytes).
            slot = self.current_slot_code(snap)
        elif slot is not None and slot not in snap.slot_codes:
            raise ValidationFailed(
                details=[
                    field_error("time_slot", "unknown_time_slot", f"No time slot called {slot!r}")
                ]
            )

        def build() -> Any:
            rows = [v.data for v in filter_items(snap, query, slot)]
            return _page(rows, query.page, query.per_page)

        return respond(self._cached((snap.version, "items", query, slot), build), if_none_match)

    async def item(self, item_id: uuid.UUID, if_none_match: str | None) -> Response:
        snap = await self.snapshot()
        view = snap.items_by_id.get(item_id)
        if view is None:
            raise NotFound("No menu item with this id")
        return respond(
            self._cached((snap.version, "item", item_id), lambda: {"data": view.data}),
            if_none_match,
        )


def filter_items(snap: Snapshot, query: ItemQuery, slot: str | None) -> list[ItemView]:
    """Apply the filters; `slot` is the resolved code (None = no slot filter, unless
    `query.time_slot` asked for the current slot and none is being served: no items)."""
    if query.time_slot is not None and slot is None:
        return []
    out: list[ItemView] = []
    for view in snap.items:
        if query.category_id is not None and view.category_id != query.category_id:
            continue
        if slot is not None and slot not in view.slot_codes:
            continue
        if query.diets and view.diet not in query.diets:
            continue
        if query.allergen_free and not view.allergens.isdisjoint(query.allergen_free):
            continue
        if query.q and query.q not in view.name_key:
            continue
        if query.available is not None and query.available == view.sold_out:
            continue
        out.append(view)
    return out


def _page(rows: list[Any], page: int, per_page: int) -> dict[str, Any]:
    start = (page - 1) * per_page
    return {
        "data": rows[start : start + per_page],
        "meta": {"page": page, "per_page": per_page, "total": len(rows)},
    }
