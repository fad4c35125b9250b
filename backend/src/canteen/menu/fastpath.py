"""Cached menu reads answered before the rest of the middleware stack (pure ASGI).

`GET /menu/categories`, `/menu/items` and `/menu/items/{id}` are what every app does on
every start and refresh, and their answer is a lookup of pre-encoded bytes. Measured on
these machines (docs/performance.md), the per-request JSON access line and the route
walk cost several times that lookup, so this layer answers cache hits directly:

- the response is byte-for-byte what the FastAPI route would send (same cache, same
  ETag and 304 rules) and carries `X-Request-ID` (echoed when safe, else generated);
- anything else (other paths, errors such as a bad filter or an unknown id, a failure)
  falls through to the normal stack, which logs it and answers with the error contract;
- instead of one access line per hit, one summary line a minute counts the hits.

`CANTEEN_MENU_FAST_PATH=false` turns it off (every read then goes through the routes).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from canteen.core.ports import PublicMenu

log = logging.getLogger("canteen.access")

_SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")  # as RequestContextMiddleware
SUMMARY_EVERY = 60.0


class MenuFastPath:
    def __init__(self, app: ASGIApp, cache: Callable[[], PublicMenu], prefix: str) -> None:
        self.app = app
        self.cache = cache
        self.categories = f"{prefix}/menu/categories"
        self.items = f"{prefix}/menu/items"
        self.item_prefix = f"{prefix}/menu/items/"
        self._counts = {200: 0, 304: 0}
        self._since = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path != self.items and path != self.categories and not path.startswith(self.item_prefix):
            await self.app(scope, receive, send)
            return
        if_none_match: str | None = None
        request_id: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"x-request-id":
                request_id = value.strip()
        try:
            cache = self.cache()
            if path == self.items:
                response = await cache.items(scope["query_string"], if_none_match)
            elif path == self.categories:
                response = await cache.categories(scope["query_string"], if_none_match)
            else:
                item_id = uuid.UUID(path[len(self.item_prefix) :])
                response = await cache.item(item_id, if_none_match)
        except Exception:
            # Errors are the routes' business: they log them and render the contract.
            await self.app(scope, receive, send)
            return
        if request_id is None or not _SAFE_REQUEST_ID.match(request_id):
            request_id = str(uuid.uuid4()).encode()
        response.raw_headers.append((b"x-request-id", request_id))
        await response(scope, receive, send)
        self._count(response.status_code)

    def _count(self, status: int) -> None:
        self._counts[status] = self._counts.get(status, 0) + 1
        now = time.monotonic()
        if now - self._since >= SUMMARY_EVERY:
            log.info(
                "menu reads answered from cache: %d (200) + %d (304) in %.0f s",
                self._counts.get(200, 0),
                self._counts.get(304, 0),
                now - self._since,
                extra={"fields": {"menu_cache_hits": dict(self._counts)}},
            )
            self._counts = {200: 0, 304: 0}
            self._since = now
