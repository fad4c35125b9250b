"""The order-status display's stream (issue 17, part 2): a filter of the kitchen stream.

One mechanism, not a second feed: the same hub wakes it, it reads the same event log
after its Last-Event-ID (so a TV that lost its network resumes without gaps or
repeats), through `realtime.kitchen_stream.stream_log`. What differs is what it reads (order
events of pickup orders only) and what it writes of each: the order's id, number and
status after the event, and nothing else: no name, phone, items, notes or pickup code,
since the screen faces the queue. The display signs in with its display token; a
revoked token's stream ends within seconds (realtime.display_watch).
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from canteen.core.container import Container
from canteen.core.deps import Session
from canteen.displays.deps import CurrentDisplay
from canteen.events.models import Event
from canteen.events.service import latest_seq
from canteen.events.types import EventType
from canteen.orders.models import Order, OrderType
from canteen.realtime.kitchen_stream import stream_log
from canteen.realtime.sse import HEADERS, resume_seq

router = APIRouter(tags=["displays"])

# Events that can move an order on or off the screen (a payment confirms a UPI order).
DISPLAY_TYPES = (
    EventType.order_created,
    EventType.order_status_changed,
    EventType.order_payment_updated,
)
DISPLAY_EVENT = b"display.order"
BATCH = 500  # as the kitchen stream's reads (stream_log reads again after a full batch)


@router.get(
    "/display/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    summary="Order numbers and statuses for the order-status display (SSE)",
)
async def display_stream(
    request: Request,
    display: CurrentDisplay,
    db: Session,
    last_event_id_query: Annotated[str | None, Query(alias="last_event_id")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Events: `hello` (the position), then `display.order` per change: `{seq, order_id,
    order_number, status}`. Open it at the snapshot's `last_event_id` (GET
    /display/orders); resume with `Last-Event-ID`. The display token goes in `?token=`
    (an EventSource cannot send headers) or `Authorization`."""
    c: Container = request.app.state.container
    resume = resume_seq(last_event_id, last_event_id_query)  # as the kitchen's
    after = resume if resume is not None else await latest_seq(db)
    return StreamingResponse(
        stream_log(
            c,
            request,
            after,
            c.hub.displays.watcher(display.id),
            replay=resume is not None,
            read=_display_events,
            frame=display_frame,
        ),
        media_type="text/event-stream",
        headers=HEADERS,
    )


def display_frame(event: Event) -> bytes:
    """The display's projection of an order event: id, number, status; nothing personal."""
    data = {
        "seq": event.seq,
        "order_id": str(event.order_id),
        "order_number": event.order_number,
        "status": event.status,
    }
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.seq, DISPLAY_EVENT, orjson.dumps(data))


async def _display_events(c: Container, after: int) -> list[Event]:
    pickup = select(Order.id).where(Order.order_type == OrderType.pickup)
    async with c.sessionmaker() as session:
        return list(
            await session.scalars(
                select(Event)
                .where(
                    Event.seq > after,
                    Event.type.in_(DISPLAY_TYPES),
                    Event.order_id.in_(pickup),
                )
                .order_by(Event.seq)
                .limit(BATCH)
            )
        )
