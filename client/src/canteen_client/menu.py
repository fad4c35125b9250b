"""The menu with its ETag cache (design §10.1) and the public config (design §10.3).

Every menu read sends the ETag of the answer it has cached for the same query as
`If-None-Match`; a 304 is answered from the cache without a body crossing the network.
`config()` is cached for `config_ttl` seconds (5 minutes) on the client's clock, so an
app that reads it on every screen re-fetches it at most every five minutes;
`watch_config()` re-fetches it every five minutes and yields it when it changes.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from canteen_client.errors import NetworkFailure, ServerFailure
from canteen_client.models import Category, KitchenWindows, MenuItem, PublicConfig

if TYPE_CHECKING:
    from canteen_client.client import CanteenClient

MAX_CACHED_QUERIES = 128


@dataclass
class _Cached:
    etag: str
    body: dict[str, Any]


@dataclass
class CacheStats:
    requests: int = 0  # menu requests sent
    not_modified: int = 0  # answered 304 and served from the cache
    config_fetches: int = 0


def _many(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class MenuAPI:
    def __init__(self, client: CanteenClient, *, config_ttl: float = 300.0) -> None:
        self._client = client
        self.config_ttl = config_ttl
        self.stats = CacheStats()
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._config: PublicConfig | None = None
        self._config_at = 0.0

    # ---- menu ------------------------------------------------------------------------

    async def categories(self) -> list[Category]:
        """Active categories in display order."""
        return [Category.from_json(c) for c in await self._list("/menu/categories", [])]

    async def items(
        self,
        *,
        category_id: str | uuid.UUID | None = None,
        time_slot: str | None = None,
        diet: str | Iterable[str] | None = None,
        allergen_free: str | Iterable[str] | None = None,
        q: str | None = None,
        available: bool | None = None,
    ) -> list[MenuItem]:
        """Menu items (sold-out ones included, see `MenuItem.sold_out`), filtered:
        `time_slot` is a slot code or `"current"`; `diet` any of the marks;
        `allergen_free` leaves out items with any of these allergens."""
        params: list[tuple[str, str]] = []
        if category_id is not None:
            params.append(("category_id", str(category_id)))
        if time_slot is not None:
            params.append(("time_slot", time_slot))
        params += [("diet", d) for d in _many(diet)]
        params += [("allergen_free", a) for a in _many(allergen_free)]
        if q:
            params.append(("q", q))
        if available is not None:
            params.append(("available", "true" if available else "false"))
        return [MenuItem.from_json(i) for i in await self._list("/menu/items", params)]

    async def item(self, item_id: str | uuid.UUID) -> MenuItem:
        body = await self._get(f"/menu/items/{item_id}", [])
        return MenuItem.from_json(body["data"])

    def clear_cache(self) -> None:
        self._cache.clear()
        self._config = None

    async def _list(self, path: str, params: list[tuple[str, str]]) -> list[Any]:
        """Every page of a list (the server's default page is the whole menu)."""
        rows: list[Any] = []
        page = 1
        while True:
            query = params if page == 1 else [*params, ("page", str(page))]
            body = await self._get(path, query)
            data = body.get("data") or []
            rows.extend(data)
            meta = body.get("meta") or {}
            total = int(meta.get("total", len(rows)))
            if not data or len(rows) >= total:
                return rows
            page += 1

    async def _get(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        key = path + "?" + "&".join(f"{k}={v}" for k, v in params)
        cached = self._cache.get(key)
        headers = {"If-None-Match": cached.etag} if cached else {}
        self.stats.requests += 1
        response = await self._client.request(
            "GET", path, params=params, headers=headers, auth=False
        )
        if response.status_code == 304:
            if cached is not None:
                self.stats.not_modified += 1
                self._cache.move_to_end(key)
                return cached.body
            # Not ours to trust (the entry was evicted meanwhile): ask for the body.
            self.stats.requests += 1
            response = await self._client.request("GET", path, params=params, auth=False)
        body: dict[str, Any] = response.json()
        etag = response.headers.get("etag")
        if etag:
            self._cache[key] = _Cached(etag, body)
            self._cache.move_to_end(key)
            while len(self._cache) > MAX_CACHED_QUERIES:
                self._cache.popitem(last=False)
        else:
            self._cache.pop(key, None)
        return body

    # ---- config ----------------------------------------------------------------------

    async def config(self, *, force: bool = False) -> PublicConfig:
        """The canteen's public settings; fetched again once `config_ttl` has passed."""
        now = self._client.clock()
        if not force and self._config is not None and now - self._config_at < self.config_ttl:
            return self._config
        data = await self._client.data("GET", "/config/public", auth=False)
        self.stats.config_fetches += 1
        self._config = PublicConfig.from_json(data)
        self._config_at = self._client.clock()
        return self._config

    async def watch_config(self) -> AsyncIterator[PublicConfig]:
        """Yield the config now and again whenever it changes, checking every
        `config_ttl` seconds (design §10.3: "on app start and every 5 minutes").
        A failed check (offline, 5xx) is skipped; the next one tries again."""
        last: PublicConfig | None = None
        while True:
            try:
                config: PublicConfig | None = await self.config(force=True)
            except (NetworkFailure, ServerFailure):
                config = None
            if config is not None and (last is None or _settings(config) != _settings(last)):
                last = config
                yield config
            await self._client.sleep(self.config_ttl)

    async def windows(
        self,
        time_slot: str | None = None,
        cart: Iterable[tuple[str | uuid.UUID, int]] = (),
    ) -> KitchenWindows:
        """The slot's kitchen windows with room (default: the slot being served now, else
        the next to open), each with its ready_around, and `kitchen_busy` for "Kitchen
        busy: ready around …". With `cart` ((menu item id, quantity) pairs) only windows
        the cart fits in are listed, with the cart's own ready time, as placing finds.
        Not cached: the room changes with every order."""
        params: list[tuple[str, str]] = [("time_slot", time_slot)] if time_slot else []
        params += [("item", str(item)) for item, quantity in cart for _ in range(quantity)]
        data = await self._client.data("GET", "/menu/windows", params=params or None, auth=False)
        return KitchenWindows.from_json(data)

    @property
    def cached_config(self) -> PublicConfig | None:
        """The last config fetched, however old (for an offline start), or None."""
        return self._config


def _settings(config: PublicConfig) -> dict[str, Any]:
    """What a config says, without the time it was read at."""
    return {k: v for k, v in config.raw.items() if k != "server_time"}
