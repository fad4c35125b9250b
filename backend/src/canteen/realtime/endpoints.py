"""Live order tracking (WebSocket, design §7.1) and the kitchen feed (SSE, design §7.2)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from canteen.core.container import Container
from canteen.core.deps import authenticate
from canteen.core.errors import AppError, InsufficientRole, InvalidToken, TokenExpired
from canteen.events.models import Event
from canteen.orders.models import Order
from canteen.orders.state import TERMINAL
from canteen.orders.views import order_out
from canteen.realtime.hub import KITCHEN_TYPES
from canteen.users.models import Role

log = logging.getLogger("canteen.realtime")
router = APIRouter(tags=["realtime"])

WS_HEARTBEAT_SECONDS = 25.0
SSE_HEARTBEAT_SECONDS = 15.0
SSE_LIFETIME_SECONDS = 30 * 60.0
SSE_RETRY_MS = 2000
CLOSE_INVALID_TOKEN = 4401
CLOSE_NOT_ALLOWED = 4403
CLOSE_NO_ORDER = 4404


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    # A close code can only reach the client on an accepted socket; nothing has been
    # subscribed or sent before this point.
    await websocket.accept()
    await websocket.close(code=code, reason=reason)


@router.websocket("/ws/orders/{order_id}")
async def track_order(websocket: WebSocket, order_id: str, token: str = "") -> None:
    c: Container = websocket.app.state.container
    try:
        oid = uuid.UUID(order_id)
    except ValueError:
        await _refuse(websocket, CLOSE_NO_ORDER, "no such order")
        return
    async with c.sessionmaker() as session:
        try:
            user = await authenticate(c, session, token)
        except (InvalidToken, TokenExpired) as exc:
            await _refuse(websocket, CLOSE_INVALID_TOKEN, exc.code)
            return
        order = await session.get(Order, oid)
        if order is None:
            await _refuse(websocket, CLOSE_NO_ORDER, "no such order")
            return
        if order.customer_id != user.id and user.role not in (Role.kitchen, Role.admin):
            await _refuse(websocket, CLOSE_NOT_ALLOWED, "not your order")
            return

    with c.hub.order_subscription(str(oid)) as sub:
        # Subscribe first, then read the state: a change in between is not lost.
        async with c.sessionmaker() as session:
            order = await session.get(Order, oid)
            assert order is not None
            last_seq = int(
                await session.scalar(
                    select(func.coalesce(func.max(Event.seq), 0)).where(Event.order_id == oid)
                )
                or 0
            )
            snapshot = {
                "type": "order.snapshot",
                "order_id": str(oid),
                "seq": last_seq,
                "status": order.status,
                "payment_status": order.payment_status,
                "order": order_out(order).model_dump(mode="json"),
            }
        await websocket.accept()
        await websocket.send_text(orjson.dumps(snapshot).decode())
        if order.status in TERMINAL:
            await websocket.close(code=1000)
            return
        # Wait for the next event and for the client going away at the same time, so a
        # closed socket is released at once (and never holds up a server shutdown).
        receiver = asyncio.create_task(_drain_client(websocket))
        try:
            while True:
                getter = asyncio.create_task(sub.queue.get())
                done, _ = await asyncio.wait(
                    {getter, receiver},
                    timeout=WS_HEARTBEAT_SECONDS,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if getter not in done:
                    getter.cancel()
                    if receiver in done:
                        return
                    await websocket.send_text('{"type":"ping"}')
                    continue
                message = getter.result()
                if sub.overflowed:
                    await websocket.close(code=1013, reason="too slow")
                    return
                if int(message.get("seq", 0)) <= last_seq:
                    continue  # already reflected in what this client has
                last_seq = int(message["seq"])
                await websocket.send_text(orjson.dumps(message).decode())
                if (
                    message.get("type") == "order.status_changed"
                    and message.get("status") in TERMINAL
                ):
                    await websocket.close(code=1000)
                    return
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            receiver.cancel()


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) client frames so disconnects are noticed."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_text()


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
) -> StreamingResponse:
    c: Container = request.app.state.container
    raw = token or (authorization or "").removeprefix("Bearer ").strip()
    if not raw:
        raise InvalidToken("Authentication is required")
    async with c.sessionmaker() as session:
        user = await authenticate(c, session, raw)
        if user.role not in (Role.kitchen, Role.admin):
            raise InsufficientRole(
                details=[{"required_roles": ["admin", "kitchen"], "role": user.role}]
            )
        resume = last_event_id or last_event_id_query
        if resume is not None:
            try:
                after = int(resume)
            except ValueError as exc:
                raise AppError(
                    "Last-Event-ID must be an event sequence number",
                    code="VALIDATION_ERROR",
                    details=[{"field": "Last-Event-ID", "issue": "invalid"}],
                ) from exc
        else:
            after = int(await session.scalar(select(func.coalesce(func.max(Event.seq), 0))) or 0)
    return StreamingResponse(
        _sse(c, request, after, replay=resume is not None),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _frame(event: Event) -> bytes:
    data = orjson.dumps(event.to_message())
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.seq, event.type.encode(), data)


async def _sse(c: Container, request: Request, after: int, *, replay: bool) -> AsyncIterator[bytes]:
    """Read the event log after `after`, in order, each time the hub says something happened.

    The log is the source, not the bus message: a reconnecting portal resumes from its
    Last-Event-ID and nothing is missed or repeated.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SSE_LIFETIME_SECONDS
    # Notice a closed connection at once, not at the next heartbeat write: otherwise a
    # dropped tablet keeps its stream (and the server's shutdown) waiting.
    disconnected = asyncio.create_task(_wait_disconnect(request))
    try:
        with c.hub.kitchen_subscription() as sub:
            yield b"retry: %d\nid: %d\nevent: hello\ndata: %s\n\n" % (
                SSE_RETRY_MS,
                after,
                orjson.dumps({"last_event_id": after, "replay": replay}),
            )
            last = after
            while loop.time() < deadline and not disconnected.done():
                sub.wakeup.clear()
                async with c.sessionmaker() as session:
                    events = list(
                        await session.scalars(
                            select(Event)
                            .where(Event.seq > last, Event.type.in_(KITCHEN_TYPES))
                            .order_by(Event.seq)
                            .limit(500)
                        )
                    )
                for event in events:
                    last = event.seq
                    yield _frame(event)
                if len(events) == 500:
                    continue
                woken = asyncio.create_task(sub.wakeup.wait())
                timeout = min(SSE_HEARTBEAT_SECONDS, max(0.1, deadline - loop.time()))
                done, _ = await asyncio.wait(
                    {woken, disconnected}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                woken.cancel()
                if disconnected in done:
                    return
                if not done:
                    yield b": heartbeat\n\n"
    finally:
        disconnected.cancel()
    # Lifetime cap: ask the client to come back (it resumes from its last id).
    yield b"retry: %d\n: lifetime reached, reconnect\n\n" % SSE_RETRY_MS


async def _wait_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass
