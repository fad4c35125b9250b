"""Live order tracking (design §7.1): the WebSocket first, HTTP polling as a fallback.

    async with api.track(order_id) as tracker:
        async for state in tracker:          # OrderState
            print(state.status)              # confirmed, preparing, ready, completed

The tracker connects to `/ws/orders/{id}?token=…`, yields the snapshot the server sends
first and then every change of the order's status or payment status, and stops when the
server closes the socket (1000) on a finished order. A handover or a kitchen cancel may
be recalled for 5 minutes, so the server keeps the socket open that long: a recall
arrives as a state with `event == "order.recalled"` and the restored status (`ready`,
`preparing`, `confirmed` …), and tracking goes on. Polling (below) follows a recall too:
after a handover or a kitchen cancel it polls on for the same 5 minutes (a recall comes as
a state with `event == "poll"` and the restored status); it stops at once on the
customer's own cancel or `not_collected`. A lost connection is
re-opened after 1, 2, 4, 8, 16 s, then every 30 s (optionally with jitter); the back-off
starts again at 1 s once a connection delivers a message. After `max_reconnects` (10)
consecutive failed reconnects it gives the socket up and polls `GET /orders/{id}` every
`poll_interval` seconds, yielding the changes it sees. The server's close codes: 4401
TOKEN_EXPIRED is refreshed through the client's single-flight refresh and the socket
re-opened at once; 4401 INVALID_TOKEN signs out (`AuthFailure`); 4404 (no such order, or
not yours: the server closes both alike) raises `NotFoundFailure`; 4409 (the account's
role changed) reconnects after the usual back-off, authorised anew. 4403 is no longer
sent (older servers used it for another customer's order); it still raises
`AuthFailure`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from canteen_client.errors import (
    AuthFailure,
    NetworkFailure,
    NotFoundFailure,
    RateLimitFailure,
    ServerFailure,
    failure_from_response,
)
from canteen_client.events import EventType
from canteen_client.models import Order, OrderState

if TYPE_CHECKING:
    from canteen_client.client import CanteenClient

log = logging.getLogger("canteen_client.tracking")

CLOSE_INVALID_TOKEN = 4401
CLOSE_NOT_ALLOWED = 4403  # older servers only; "not yours" is 4404 now
CLOSE_NO_ORDER = 4404
CLOSE_NORMAL = 1000  # the order is final (its recall window, if any, has passed)
# How long the kitchen may put back a handover or a cancel (the server's orders.recall).
RECALL_WINDOW = timedelta(minutes=5)


ETA_CHANGED = "order.eta_changed"


class OrderTracker:
    """An async iterator of `OrderState`s for one order (see the module docstring).

    `mode` is `websocket` or `polling`; `delays` lists every reconnect delay used."""

    def __init__(
        self,
        client: CanteenClient,
        order_id: str,
        *,
        poll_interval: float = 5.0,
        max_reconnects: int = 10,
        max_backoff: float = 30.0,
        jitter: float = 0.0,
        open_timeout: float = 10.0,
    ) -> None:
        self._client = client
        self.order_id = order_id
        self.poll_interval = poll_interval
        self.max_reconnects = max_reconnects
        self.max_backoff = max_backoff
        self.jitter = jitter
        self.open_timeout = open_timeout
        self.mode = "websocket"
        self.delays: list[float] = []
        self.connections = 0  # sockets opened (diagnostics)
        self.last: OrderState | None = None
        self._gen: AsyncGenerator[OrderState, None] | None = None

    # ---- iteration -------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[OrderState]:
        return self

    async def __anext__(self) -> OrderState:
        if self._gen is None:
            self._gen = self._run()
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        if self._gen is not None:
            await self._gen.aclose()

    async def __aenter__(self) -> OrderTracker:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def backoff(self, failures: int) -> float:
        """Delay after the `failures`-th consecutive failure: 1, 2, 4, … capped at 30 s."""
        delay = min(self.max_backoff, float(2 ** (failures - 1)))
        if self.jitter:
            delay *= 1 + random.uniform(-self.jitter, self.jitter)
        return max(0.0, delay)

    # ---- the state machine -----------------------------------------------------------

    def _changed(self, state: OrderState) -> bool:
        last = self.last
        return last is None or (last.status, last.payment_status) != (
            state.status,
            state.payment_status,
        )

    def _from_message(self, message: dict[str, Any]) -> OrderState | None:
        kind = str(message.get("type", ""))
        order_json = message.get("order")
        order: Order | None = None
        if isinstance(order_json, dict):
            try:
                order = Order.from_json(order_json)
            except (KeyError, TypeError, ValueError):
                log.warning("order %s: could not read the order in %s", self.order_id, kind)
        status = message.get("status") or (order.status if order else None)
        if status is None and self.last is not None:
            status = self.last.status
        if status is None:
            return None
        payment_status = message.get("payment_status") or (order.payment_status if order else None)
        if payment_status is None and self.last is not None:
            payment_status = self.last.payment_status
        seq = message.get("seq")
        data = message.get("data")
        return OrderState(
            order_id=self.order_id,
            status=str(status),
            payment_status=None if payment_status is None else str(payment_status),
            seq=int(seq) if isinstance(seq, int) else None,
            event=kind,
            source="websocket",
            order=order,
            data=data if isinstance(data, dict) else {},
        )

    async def _run(self) -> AsyncGenerator[OrderState, None]:
        client = self._client
        failures = 0  # consecutive connection attempts that delivered nothing
        auth_retried = False
        while True:
            tokens, generation = await client._auth_state()
            if tokens is None:
                raise AuthFailure(401, "NOT_SIGNED_IN", "Sign in first", signed_out=True)
            url = (
                f"{client.ws_base_url}/ws/orders/{quote(self.order_id, safe='')}"
                f"?token={quote(tokens.access_token, safe='')}"
            )
            close_code: int | None = None
            close_reason = ""
            try:
                async with connect(
                    url,
                    open_timeout=self.open_timeout,
                    additional_headers={
                        "X-Platform": client.platform,
                        "X-App-Version": client.app_version,
                        "X-Request-ID": str(uuid.uuid4()),
                    },
                    user_agent_header=f"canteen-client ({client.platform})",
                ) as ws:
                    self.connections += 1
                    try:
                        async for raw in ws:
                            try:
                                message = json.loads(raw)
                            except ValueError:
                                log.warning("order %s: not JSON: %.80r", self.order_id, raw)
                                continue
                            if not isinstance(message, dict) or message.get("type") == "ping":
                                continue
                            failures = 0
                            auth_retried = False
                            state = self._from_message(message)
                            if state is None:
                                continue
                            # A new estimate keeps the status but is news to the student.
                            if self._changed(state) or state.event == ETA_CHANGED:
                                self.last = state
                                yield state
                            # A finished order is followed on: it may still be recalled,
                            # and the server closes the socket once it is final.
                    except ConnectionClosed:
                        pass
                    close_code, close_reason = ws.close_code, ws.close_reason or ""
                    if close_code == CLOSE_NORMAL and self.last and self.last.is_terminal:
                        return
            except InvalidURI:
                raise
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
                log.info("order %s: websocket failed: %r", self.order_id, exc)

            if close_code == CLOSE_INVALID_TOKEN:
                if close_reason == "TOKEN_EXPIRED":
                    if auth_retried:  # refreshed, and the new token is refused too
                        raise AuthFailure(401, "TOKEN_EXPIRED", "The session could not be renewed")
                    auth_retried = True
                    try:
                        await client._refresh(generation)  # single flight; raises if refused
                        continue
                    except (NetworkFailure, ServerFailure) as exc:
                        # Could not refresh right now: back off like any failure.
                        log.info("order %s: refresh failed: %s", self.order_id, exc)
                        auth_retried = False
                else:
                    if await client._invalid_token(generation, "invalid_token"):
                        raise AuthFailure(
                            401, close_reason or "INVALID_TOKEN", "Sign in again", signed_out=True
                        )
                    if auth_retried:
                        raise AuthFailure(401, close_reason or "INVALID_TOKEN", "Sign in again")
                    auth_retried = True
                    continue  # the tokens changed meanwhile: try the new ones
            if close_code == CLOSE_NOT_ALLOWED:
                raise AuthFailure(403, "INSUFFICIENT_ROLE", "This order is not yours to track")
            if close_code == CLOSE_NO_ORDER:
                raise NotFoundFailure(404, "NOT_FOUND", "No such order")

            failures += 1
            if failures > self.max_reconnects:
                break
            delay = self.backoff(failures)
            self.delays.append(delay)
            log.info(
                "order %s: websocket closed (%s); reconnect %d in %.1fs",
                self.order_id,
                close_code,
                failures,
                delay,
            )
            await client.sleep(delay)

        async for state in self._poll():
            yield state

    async def _poll(self) -> AsyncGenerator[OrderState, None]:
        self.mode = "polling"
        log.warning(
            "order %s: websocket unavailable after %d reconnects; polling every %.0fs",
            self.order_id,
            self.max_reconnects,
            self.poll_interval,
        )
        client = self._client
        final_for = 0.0  # seconds polled since a final status that may still be recalled
        while True:
            wait = self.poll_interval
            try:
                order = await client.orders.order(self.order_id)
            except RateLimitFailure as exc:
                wait = max(wait, exc.retry_after)
            except (NetworkFailure, ServerFailure) as exc:
                log.info("order %s: poll failed: %s", self.order_id, exc)
            else:
                state = OrderState(
                    order_id=self.order_id,
                    status=order.status,
                    payment_status=order.payment_status,
                    seq=None,
                    event="poll",
                    source="polling",
                    order=order,
                )
                if self._changed(state):
                    self.last = state
                    final_for = 0.0
                    yield state
                if state.is_terminal and not _may_be_recalled(
                    order, final_for, client.wall_clock()
                ):
                    return
                final_for += wait if state.is_terminal else 0.0
            await client.sleep(wait)


def _may_be_recalled(order: Order, polled_since: float, now: datetime) -> bool:
    """A handover or a kitchen cancel may be put back for RECALL_WINDOW (the socket
    stays open that long); polling follows as long, counted in the time it has waited
    since, and not at all once the order's last change is older than the window (with a
    minute of leeway for clocks). A customer's own cancel and an uncollected order are
    final at once."""
    if order.status == "not_collected" or (
        order.status == "cancelled" and order.cancelled_by == "customer"
    ):
        return False
    if polled_since >= RECALL_WINDOW.total_seconds():
        return False
    age = now - order.updated_at
    return age <= RECALL_WINDOW + timedelta(minutes=1)


# ---- the students' live menu channel (SSE) ------------------------------------------

MENU_EVENTS = ("hello", EventType.menu_updated, EventType.config_updated, "menu.resync")


@dataclass(frozen=True, slots=True)
class MenuMessage:
    """One message of `GET /menu/stream`: `event` is `hello`, `menu.updated`,
    `config.updated` or `menu.resync`; `data` is what changed (`{entity, action, id,
    name?, changes, menu_version}` for the menu, `{section: "settings", changes}` for
    settings; empty for hello and resync). Every message means "re-read the menu and the
    public config"."""

    event: str
    id: int | None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def sold_out_item(self) -> str | None:
        """The dish that just sold out (`action == "sold_out"`), to flag it at once."""
        if self.data.get("action") == "sold_out" and self.data.get("id") is not None:
            return str(self.data["id"])
        return None


def _parse_sse_event(lines: list[str]) -> tuple[str, str | None, str, int | None]:
    """(event, id, data, retry ms) of one SSE event block (comments ignored)."""
    event, event_id, retry = "message", None, None
    data: list[str] = []
    for line in lines:
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\0" not in value:
            event_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
    return event, event_id, "\n".join(data), retry


class MenuWatcher:
    """An async iterator of `MenuMessage`s from the live menu channel.

        async with api.watch_menu() as watcher:
            async for message in watcher:
                ...  # re-read the menu and config; message.sold_out_item flags a dish

    It never ends on its own: the server closes the stream after 30 minutes or when the
    account changes, and a dropped or refused connection is re-opened after 1, 2, 4 …
    30 s (back to 1 s once a connection delivers a message), resuming with
    `Last-Event-ID` so nothing in between is lost (the server replays it, or sends
    `menu.resync`). An expired token is refreshed and the stream re-opened at once;
    INVALID_TOKEN signs out and raises `AuthFailure`. `connections` counts streams
    opened, `delays` the reconnect delays used."""

    def __init__(
        self,
        client: CanteenClient,
        *,
        max_backoff: float = 30.0,
        jitter: float = 0.0,
        read_timeout: float = 45.0,  # the server sends a heartbeat every 15 s
    ) -> None:
        self._client = client
        self.max_backoff = max_backoff
        self.jitter = jitter
        self.read_timeout = read_timeout
        self.last_event_id: str | None = None
        self.connections = 0
        self.delays: list[float] = []
        self._gen: AsyncGenerator[MenuMessage, None] | None = None

    def __aiter__(self) -> AsyncIterator[MenuMessage]:
        return self

    async def __anext__(self) -> MenuMessage:
        if self._gen is None:
            self._gen = self._run()
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        if self._gen is not None:
            await self._gen.aclose()

    async def __aenter__(self) -> MenuWatcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def backoff(self, failures: int) -> float:
        delay = min(self.max_backoff, float(2 ** (failures - 1)))
        if self.jitter:
            delay *= 1 + random.uniform(-self.jitter, self.jitter)
        return max(0.0, delay)

    async def _run(self) -> AsyncGenerator[MenuMessage, None]:
        client = self._client
        failures = 0
        auth_retried = False
        while True:
            tokens, generation = await client._auth_state()
            if tokens is None:
                raise AuthFailure(401, "NOT_SIGNED_IN", "Sign in first", signed_out=True)
            headers = {
                "Accept": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Request-ID": str(uuid.uuid4()),
            }
            if self.last_event_id is not None:
                headers["Last-Event-ID"] = self.last_event_id
            delivered = False
            try:
                async with client.http.stream(
                    "GET",
                    "/menu/stream",
                    params={"token": tokens.access_token},
                    headers=headers,
                    timeout=httpx.Timeout(10.0, read=self.read_timeout),
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        failure = failure_from_response(response)
                        if response.status_code == 401:
                            if failure.code == "TOKEN_EXPIRED" and not auth_retried:
                                auth_retried = True
                                try:
                                    await client._refresh(generation)
                                    continue
                                except (NetworkFailure, ServerFailure) as exc:
                                    log.info("menu stream: refresh failed: %s", exc)
                                    auth_retried = False
                            elif await client._invalid_token(generation, "invalid_token"):
                                if isinstance(failure, AuthFailure):
                                    failure.signed_out = True
                                raise failure
                            elif not auth_retried:
                                auth_retried = True
                                continue  # the tokens changed meanwhile: try the new ones
                            else:
                                raise failure
                        elif response.status_code < 500 and response.status_code != 429:
                            raise failure  # 400 (a bad Last-Event-ID), 403: not transient
                    else:
                        self.connections += 1
                        block: list[str] = []
                        async for line in response.aiter_lines():
                            if line:
                                block.append(line)
                                continue
                            event, event_id, data, _retry = _parse_sse_event(block)
                            block = []
                            if event_id is not None:
                                self.last_event_id = event_id
                            if event not in MENU_EVENTS:
                                continue
                            failures, auth_retried, delivered = 0, False, True
                            yield _menu_message(event, event_id, data)
            except httpx.TransportError as exc:
                log.info("menu stream: connection failed: %r", exc)
            if delivered:
                failures = 0
            failures += 1
            delay = self.backoff(failures)
            self.delays.append(delay)
            log.info("menu stream closed; reconnect %d in %.1fs", failures, delay)
            await client.sleep(delay)


def _menu_message(event: str, event_id: str | None, data: str) -> MenuMessage:
    payload: Any = None
    with contextlib.suppress(ValueError):
        payload = json.loads(data) if data else None
    inner = payload.get("data") if isinstance(payload, dict) else None
    seq = int(event_id) if event_id is not None and event_id.isdigit() else None
    return MenuMessage(event=event, id=seq, data=inner if isinstance(inner, dict) else {})
