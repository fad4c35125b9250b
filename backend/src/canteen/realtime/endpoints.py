"""Live order tracking (WebSocket, design §7.1) and the kitchen feed's route (SSE, design
§7.2; opened by realtime.kitchen_stream)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse

from canteen.auth.deps import authenticate
from canteen.core.container import Container
from canteen.core.errors import InvalidToken, TokenExpired
from canteen.events.service import latest_seq
from canteen.orders.presenter import customer_order
from canteen.orders.service import read_order
from canteen.orders.state import TERMINAL
from canteen.realtime.accounts import DEACTIVATED
from canteen.realtime.kitchen_stream import open_kitchen_stream
from canteen.realtime.order_window import WINDOW_CHECK_SECONDS, closing_time, read_closing_time
from canteen.realtime.sse import HEADERS
from canteen.users.models import Role

log = logging.getLogger("canteen.realtime")
router = APIRouter(tags=["realtime"])

WS_HEARTBEAT_SECONDS = 25.0
CLOSE_INVALID_TOKEN = 4401
# "Not yours" and "does not exist" close alike, so order ids cannot be probed.
CLOSE_NO_ORDER = 4404
CLOSE_ROLE_CHANGED = 4409  # the account's role changed: reconnect to be authorised anew
WS_MAX_PENDING = 100  # messages queued for one socket before it is dropped as too slow


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    # A close code can only reach the client on an accepted socket; nothing has been
    # subscribed or sent before this point.
    await websocket.accept()
    await websocket.close(code=code, reason=reason)


class _Close:
    """A close queued behind the messages already sent (not a message itself)."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class _Follower:
    """Sends one socket the hub's messages for its order, in order.

    Memory per idle socket is the budget here (10,000 open on one process): an idle
    socket is only its handler waiting for a client frame. Messages are queued by the
    hub's listener call and sent by a task that exists only while there is something
    to send, so every send (pings included) comes from one place, in order.
    """

    __slots__ = (
        "closing",
        "finished",
        "last_seq",
        "paused",
        "pending",
        "sender",
        "terminal",
        "turn",
        "websocket",
        "window",
    )

    def __init__(
        self,
        websocket: WebSocket,
        last_seq: int,
        closing: Callable[[], Awaitable[datetime | None]],
        now: Callable[[], datetime],
    ) -> None:
        self.websocket = websocket
        self.last_seq = last_seq
        self.pending: deque[dict[str, Any] | _Close] = deque()
        self.sender: asyncio.Task[None] | None = None
        self.paused = True  # until the snapshot has gone out
        self.finished = False
        # A finished order's socket closes when its status is final (realtime.order_window):
        # `window` waits for that while the order is terminal; `turn` tells it the
        # order moved again (a recall) since it started.
        self.closing = (closing, now)
        self.terminal = False
        self.turn = 0
        self.window: asyncio.Task[None] | None = None

    def offer(self, message: dict[str, Any]) -> None:
        if self.finished:
            return
        if len(self.pending) >= WS_MAX_PENDING:
            # A client this far behind is disconnected rather than buffered without end.
            self.pending.clear()
            self.pending.append(_TOO_SLOW)
        else:
            self.pending.append(message)
        self._wake()

    def revoke(self, reason: str) -> None:
        """The account changed (realtime.accounts): close now, sending nothing more."""
        if reason == DEACTIVATED:
            close = _Close(CLOSE_INVALID_TOKEN, InvalidToken.code)
        else:
            close = _Close(CLOSE_ROLE_CHANGED, "ROLE_CHANGED")
        self.pending.clear()
        self.pending.append(close)
        self._wake()

    def resume(self, last_seq: int) -> None:
        self.last_seq = max(self.last_seq, last_seq)
        self.paused = False
        self._wake()

    def _wake(self) -> None:
        if self.sender is None and not self.paused and self.pending:
            self.sender = asyncio.get_running_loop().create_task(self._send_pending())

    async def _send_pending(self) -> None:
        try:
            while self.pending and not self.finished:
                message = self.pending.popleft()
                if isinstance(message, _Close):
                    self.finished = True
                    await self.websocket.close(code=message.code, reason=message.reason)
                elif message is _PING:
                    await self.websocket.send_text('{"type":"ping"}')
                elif int(message.get("seq", 0)) > self.last_seq:  # else already in the snapshot
                    self.last_seq = int(message["seq"])
                    await self.websocket.send_text(orjson.dumps(message).decode())
                    self.status_seen(message.get("status"))
        except Exception:  # the client went away mid-send: the handler sees it and ends
            self.finished = True
        finally:
            self.sender = None

    def status_seen(self, status: Any) -> None:
        """A status went out: a terminal one starts waiting for it to be final."""
        if status is None or (status in TERMINAL) == self.terminal:
            return
        self.terminal = status in TERMINAL
        self.turn += 1
        if self.terminal:
            self.window = asyncio.get_running_loop().create_task(self._close_when_final())

    async def _close_when_final(self) -> None:
        closing, now = self.closing
        turn, until = self.turn, None
        while turn == self.turn and not self.finished:
            if until is None or now() >= until:
                try:  # shielded: a read cancelled half-way can leave SQLite locked
                    until = await asyncio.shield(asyncio.ensure_future(closing()))
                except Exception:
                    log.exception("order socket: could not read the recall window")
                    until = now()  # close as for any finished order
                if until is None or turn != self.turn:
                    return  # moved again (recalled): its events are on the way
                if now() >= until:
                    self.pending.append(_Close(1000, ""))
                    self._wake()
                    return
            await asyncio.sleep(WINDOW_CHECK_SECONDS)

    async def stop(self) -> None:
        self.finished = True
        for task in (self.sender, self.window):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


_PING: dict[str, Any] = {"type": "ping"}
_TOO_SLOW = _Close(1013, "too slow")


@router.websocket("/ws/orders/{order_id}")
async def track_order(websocket: WebSocket, order_id: str, token: str = "") -> None:
    c: Container = websocket.app.state.container
    try:
        oid = uuid.UUID(order_id)
    except ValueError:
        await _refuse(websocket, CLOSE_NO_ORDER, "no such order")
        return
    follower = _Follower(websocket, 0, partial(read_closing_time, c, oid), c.clock.now)
    # Subscribe first, then read the state: a change in between is not lost (the
    # follower holds it until the snapshot is out and drops what the snapshot covers).
    with c.hub.order_subscription(str(oid), follower.offer):
        async with c.sessionmaker() as session:
            try:
                user = await authenticate(c, session, token)
            except (InvalidToken, TokenExpired) as exc:
                await _refuse(websocket, CLOSE_INVALID_TOKEN, exc.code)
                return
            order = await read_order(session, oid)
            if order is None or (
                order.customer_id != user.id and user.role not in (Role.kitchen, Role.admin)
            ):
                await _refuse(websocket, CLOSE_NO_ORDER, "no such order")
                return
            account = (user.id, str(user.role))
            last_seq = await latest_seq(session, order_id=oid)
            snapshot = orjson.dumps(
                {
                    "type": "order.snapshot",
                    "order_id": str(oid),
                    "seq": last_seq,
                    "status": order.status,
                    "payment_status": order.payment_status,
                    # As GET /orders/{id} shows it: with the payment (status, checkout
                    # URL, why it failed) and any refund, so a failed UPI payment is
                    # never shown as "waiting" (issue 14, point 2).
                    "order": (await customer_order(c, session, order)).model_dump(mode="json"),
                }
            ).decode()
            # A handover or staff cancel that may still be recalled is not final yet.
            closes_at = await closing_time(session, order, c.clock.now())
            finished = closes_at is not None and closes_at <= c.clock.now()
        try:
            await websocket.accept()
            await websocket.send_text(snapshot)
            if finished:
                await websocket.close(code=1000)
                return
            follower.resume(last_seq)
            follower.status_seen(order.status)
            # The handler only waits for the client: frames are ignored, a disconnect
            # ends it at once (and never holds up a server shutdown).
            with c.hub.accounts.watch(*account, follower.revoke):
                while not follower.finished:
                    try:
                        async with asyncio.timeout(WS_HEARTBEAT_SECONDS):
                            message = await websocket.receive()
                    except TimeoutError:
                        follower.offer(_PING)
                        continue
                    if message["type"] == "websocket.disconnect":
                        return
            # The follower closed the socket (order finished, too slow, account changed):
            # let its last send complete, then wait briefly for the client's close.
            if follower.sender is not None:
                await asyncio.wait({follower.sender}, timeout=WS_HEARTBEAT_SECONDS)
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            await follower.stop()


@router.get(
    "/admin/orders/stream",
    tags=["kitchen"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def kitchen_stream(
    request: Request,
    token: str | None = None,
    last_event_id_query: Annotated[str | None, Query(alias="last_event_id")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    authorization: Annotated[str | None, Header()] = None,
    station: Annotated[
        uuid.UUID | None, Query(description="Only the events of orders with a line there")
    ] = None,
) -> StreamingResponse:
    stream = await open_kitchen_stream(
        request, token, authorization, last_event_id, last_event_id_query, station
    )
    return StreamingResponse(stream, media_type="text/event-stream", headers=HEADERS)
