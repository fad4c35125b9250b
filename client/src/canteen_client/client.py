"""`CanteenClient`: the transport every part of the SDK shares (design §6).

One `httpx.AsyncClient` with the design's timeouts (connect 10 s, receive 15 s) and the
§3.2 headers on every call (`X-Platform`, `X-App-Version`, a fresh `X-Request-ID` per
logical call, kept across its retries so the server's logs tie them together).

Retries (`request(..., retry=...)`): up to `max_retries` (3) more attempts with
exponential back-off on 500/502/503/504 and network errors, only for requests that are
safe to repeat: GET/HEAD/OPTIONS, order placement (made safe by its idempotency key)
and the calls the API defines as idempotent (device-token upsert/delete). Other
POST/PATCH/DELETE calls (and `/auth/refresh`) are sent once. A connection that could not
even be opened (nothing reached the server) is retried for every request. 429 is never
retried: it raises `RateLimitFailure` with the server's wait.

Auth: the access token is sent as `Authorization: Bearer`. A 401 TOKEN_EXPIRED triggers
one refresh shared by every call waiting on it (single flight: an `asyncio.Lock` plus a
generation counter that moves whenever the tokens change), then each call retries once
with the new token. A refresh the server refuses, or a 401 INVALID_TOKEN, signs out:
the token store is cleared and `AuthFailure(signed_out=True)` is raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from canteen_client._version import __version__
from canteen_client.errors import (
    ApiFailure,
    AuthFailure,
    NetworkFailure,
    failure_from_response,
)
from canteen_client.tokens import MemoryTokenStore, Tokens, TokenStore

if TYPE_CHECKING:
    from canteen_client.tracking import MenuWatcher, OrderTracker

log = logging.getLogger("canteen_client")

API_PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=15.0, write=15.0, pool=10.0)
MAX_RETRY_AFTER = 30.0

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
WallClock = Callable[[], datetime]


def device_time() -> datetime:
    return datetime.now(UTC)


SignedOutHook = Callable[[str], Awaitable[None] | None]
QueryParams = Mapping[str, Any] | list[tuple[str, Any]]


def normalise_base_url(base_url: str) -> str:
    """`https://host` → `https://host/api/v1`; a URL with a path is used as given."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
    path = parts.path.rstrip("/") or API_PREFIX
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def websocket_base_url(base_url: str) -> str:
    """The WebSocket twin of the REST base (design §12): http→ws, https→wss, same path."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _never_sent(exc: httpx.TransportError) -> bool:
    """True when the request cannot have reached the server (safe to send again)."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


class CanteenClient:
    """Async client for the Canteen API. Use it as an async context manager:

    async with CanteenClient("https://api.example.com") as api:
        await api.auth.request_otp("+919876543210")
        await api.auth.verify_otp("+919876543210", "123456")
        items = await api.menu.items(time_slot="lunch")
    """

    def __init__(
        self,
        base_url: str,
        *,
        platform: str = "android",
        app_version: str = __version__,
        token_store: TokenStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float | None = None,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        retry_jitter: float = 0.0,
        ws_base_url: str | None = None,
        config_ttl: float = 300.0,
        clock: Clock = time.monotonic,
        wall_clock: WallClock = device_time,
        sleep: Sleep = asyncio.sleep,
        on_signed_out: SignedOutHook | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.ws_base_url = (ws_base_url or websocket_base_url(self.base_url)).rstrip("/")
        self.platform = platform
        self.app_version = app_version
        self.token_store: TokenStore = (
            token_store if token_store is not None else MemoryTokenStore()
        )
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_jitter = retry_jitter
        self.clock = clock
        # The time of day, where the server's times are compared with it (how long ago an
        # order was handed over); tests give the server's own clock.
        self.wall_clock = wall_clock
        self.sleep = sleep
        self.on_signed_out = on_signed_out
        self.refresh_count = 0  # refreshes this client performed (diagnostics, tests)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            headers={
                "Accept": "application/json",
                "User-Agent": f"canteen-client/{__version__} ({platform})",
                "X-Platform": platform,
                "X-App-Version": app_version,
            },
            event_hooks=dict(event_hooks) if event_hooks else None,
        )
        self._tokens: Tokens | None = None
        self._tokens_loaded = False
        self._generation = 0
        self._auth_lock = asyncio.Lock()

        from canteen_client.auth import AuthAPI
        from canteen_client.devices import DevicesAPI
        from canteen_client.menu import MenuAPI
        from canteen_client.orders import OrdersAPI
        from canteen_client.payments import PaymentsAPI
        from canteen_client.users import UsersAPI

        self.auth = AuthAPI(self)
        self.users = UsersAPI(self)
        self.menu = MenuAPI(self, config_ttl=config_ttl)
        self.orders = OrdersAPI(self)
        self.payments = PaymentsAPI(self)
        self.devices = DevicesAPI(self)

    # ---- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> CanteenClient:
        await self._load_tokens()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying httpx client (its base URL is the API root)."""
        return self._http

    # ---- tokens ----------------------------------------------------------------------

    async def _load_tokens(self) -> Tokens | None:
        if not self._tokens_loaded:
            async with self._auth_lock:
                if not self._tokens_loaded:
                    self._tokens = await self.token_store.load()
                    self._tokens_loaded = True
        return self._tokens

    async def tokens(self) -> Tokens | None:
        """The current tokens (loaded from the store on first use), or None."""
        return await self._load_tokens()

    async def is_signed_in(self) -> bool:
        return await self._load_tokens() is not None

    async def set_tokens(self, tokens: Tokens) -> None:
        """Adopt a new session (after sign-in): saved to the store, used from now on."""
        async with self._auth_lock:
            await self._store_tokens(tokens)

    async def _store_tokens(self, tokens: Tokens) -> None:
        # Caller holds _auth_lock.
        await self.token_store.save(tokens)
        self._tokens = tokens
        self._tokens_loaded = True
        self._generation += 1

    async def sign_out_locally(self, reason: str = "logout") -> None:
        """Forget the session (the store is cleared) without calling the server."""
        async with self._auth_lock:
            had_tokens = await self._clear_tokens()
        if had_tokens:
            await self._signed_out(reason)

    async def _clear_tokens(self) -> bool:
        # Caller holds _auth_lock. Returns whether there was a session to forget.
        had_tokens = self._tokens is not None
        self._tokens = None
        self._tokens_loaded = True
        self._generation += 1
        await self.token_store.clear()
        return had_tokens

    async def _signed_out(self, reason: str) -> None:
        # Called after _auth_lock is released: the hook may use the client.
        log.info("signed out (%s)", reason)
        if self.on_signed_out is not None:
            result = self.on_signed_out(reason)
            if inspect.isawaitable(result):
                await result

    def _tokens_from_answer(self, data: Mapping[str, Any], user: Any = None) -> Tokens:
        now = time.time()
        expires_in = data.get("expires_in")
        refresh_in = data.get("refresh_expires_in")
        user_json = data.get("user", user)
        return Tokens(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            token_type=str(data.get("token_type") or "bearer"),
            expires_at=now + float(expires_in) if isinstance(expires_in, int | float) else None,
            refresh_expires_at=now + float(refresh_in)
            if isinstance(refresh_in, int | float)
            else None,
            user=dict(user_json) if isinstance(user_json, Mapping) else None,
        )

    async def _auth_state(self) -> tuple[Tokens | None, int]:
        tokens = await self._load_tokens()
        return tokens, self._generation

    async def refresh(self) -> Tokens:
        """Refresh now (normally automatic on TOKEN_EXPIRED)."""
        _, generation = await self._auth_state()
        await self._refresh(generation)
        tokens = self._tokens
        if tokens is None:  # pragma: no cover - _refresh raises instead
            raise _signed_out_failure()
        return tokens

    async def _refresh(self, generation: int) -> None:
        """Single flight: of all the callers that saw `generation` fail, one refreshes;
        the others wait for it and then use its result."""
        async with self._auth_lock:
            if self._generation != generation:
                if self._tokens is None:
                    raise _signed_out_failure()
                return  # someone refreshed (or signed in) meanwhile: use their tokens
            current = self._tokens
            if current is None:
                raise _signed_out_failure()
            try:
                response = await self._http.post(
                    "/auth/refresh",
                    json={"refresh_token": current.refresh_token},
                    headers={"X-Request-ID": str(uuid.uuid4())},
                )
            except httpx.TransportError as exc:
                # Transient: keep the tokens, a later call can refresh.
                raise NetworkFailure(f"Could not refresh the session: {exc!r}", cause=exc) from exc
            if response.status_code < 400:
                self.refresh_count += 1
                data = response.json()["data"]
                await self._store_tokens(self._tokens_from_answer(data, user=current.user))
                return
            failure = failure_from_response(response)
            if response.status_code not in (400, 401, 403):
                raise failure  # 5xx: transient, keep the tokens
            # The server refused the refresh token: the session is over.
            had_tokens = await self._clear_tokens()
        if had_tokens:
            await self._signed_out("refresh_failed")
        raise AuthFailure(
            failure.status,
            failure.code,
            failure.message,
            failure.details,
            request_id=failure.request_id,
            headers=failure.headers,
            signed_out=True,
        )

    async def _invalid_token(self, generation: int, reason: str) -> bool:
        """A 401 INVALID_TOKEN for the tokens of `generation`. Signs out if they are still
        the current ones and returns True; False when they changed meanwhile (retry)."""
        async with self._auth_lock:
            if self._generation != generation and self._tokens is not None:
                return False
            had_tokens = await self._clear_tokens()
        if had_tokens:
            await self._signed_out(reason)
        return True

    # ---- requests --------------------------------------------------------------------

    def backoff(self, attempt: int) -> float:
        """Delay before retry number `attempt` (1-based): base · 2^(attempt-1), capped."""
        delay = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        if self.retry_jitter:
            delay *= 1 + random.uniform(-self.retry_jitter, self.retry_jitter)
        return max(0.0, delay)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
        retry: bool | None = None,
        retry_codes: Collection[str] = (),
    ) -> httpx.Response:
        """Send one logical call; returns the 2xx/304 response or raises a `CanteenError`.

        `retry`: whether 5xx/network failures may be retried (default: only for
        GET/HEAD/OPTIONS). `retry_codes`: error codes that also mean "try again"
        (e.g. IDEMPOTENCY_IN_PROGRESS for order placement).
        """
        method = method.upper()
        retryable = method in SAFE_METHODS if retry is None else retry
        request_id = str(uuid.uuid4())
        attempt = 0
        auth_retried = False
        while True:
            send_headers = {"X-Request-ID": request_id, **(headers or {})}
            generation = 0
            if auth:
                tokens, generation = await self._auth_state()
                if tokens is None:
                    raise AuthFailure(401, "NOT_SIGNED_IN", "Sign in first", signed_out=True)
                send_headers["Authorization"] = f"Bearer {tokens.access_token}"
            try:
                response = await self._http.request(
                    method, path, json=json, params=params, headers=send_headers
                )
            except httpx.TransportError as exc:
                if attempt < self.max_retries and (retryable or _never_sent(exc)):
                    attempt += 1
                    delay = self.backoff(attempt)
                    log.info("%s %s: %r; retry %d in %.1fs", method, path, exc, attempt, delay)
                    await self.sleep(delay)
                    continue
                raise NetworkFailure(
                    f"{method} {path} failed: {type(exc).__name__}: {exc}", cause=exc
                ) from exc

            status = response.status_code
            if status < 400:
                return response
            failure = failure_from_response(response)

            if auth and isinstance(failure, AuthFailure) and status == 401:
                if failure.code == "TOKEN_EXPIRED" and not auth_retried:
                    auth_retried = True
                    await self._refresh(generation)  # single flight; raises if refused
                    continue
                if failure.code == "INVALID_TOKEN":
                    if await self._invalid_token(generation, "invalid_token"):
                        failure.signed_out = True
                        raise failure
                    if not auth_retried:  # the tokens changed meanwhile: try the new ones
                        auth_retried = True
                        continue

            if (
                retryable
                and attempt < self.max_retries
                and (status in RETRY_STATUSES or failure.code in retry_codes)
            ):
                attempt += 1
                delay = self._retry_delay(attempt, failure)
                log.info("%s %s: %s; retry %d in %.1fs", method, path, status, attempt, delay)
                await self.sleep(delay)
                continue
            raise failure

    def _retry_delay(self, attempt: int, failure: ApiFailure) -> float:
        delay = self.backoff(attempt)
        header = failure.headers.get("retry-after")
        if header:
            with contextlib.suppress(ValueError):
                delay = max(delay, min(MAX_RETRY_AFTER, float(header)))
        return delay

    async def data(self, method: str, path: str, **kwargs: Any) -> Any:
        """`request(...)` and return the envelope's `data`."""
        response = await self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()["data"]

    # ---- realtime --------------------------------------------------------------------

    def track(
        self,
        order_id: str | uuid.UUID,
        *,
        poll_interval: float = 5.0,
        max_reconnects: int = 10,
        max_backoff: float = 30.0,
        jitter: float = 0.0,
        open_timeout: float = 10.0,
    ) -> OrderTracker:
        """Follow an order's states live (WebSocket, then HTTP polling as a fallback)."""
        from canteen_client.tracking import OrderTracker

        return OrderTracker(
            self,
            str(order_id),
            poll_interval=poll_interval,
            max_reconnects=max_reconnects,
            max_backoff=max_backoff,
            jitter=jitter,
            open_timeout=open_timeout,
        )

    def watch_menu(
        self, *, max_backoff: float = 30.0, jitter: float = 0.0, read_timeout: float = 45.0
    ) -> MenuWatcher:
        """Follow the students' live menu channel (`GET /menu/stream`, SSE): every
        message means "re-read the menu and the public config"."""
        from canteen_client.tracking import MenuWatcher

        return MenuWatcher(self, max_backoff=max_backoff, jitter=jitter, read_timeout=read_timeout)


def _signed_out_failure() -> AuthFailure:
    return AuthFailure(
        401, "NOT_SIGNED_IN", "The session has ended; sign in again", signed_out=True
    )
