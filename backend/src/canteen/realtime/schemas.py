"""The realtime messages as schemas (issue 13, point 13): what the order socket and the two
SSE streams send, documented like the HTTP API is.

The event types are `canteen.events.types.EventType`, the one list of wire names; the
message types that are not events (`order.snapshot`, `ping`, `menu.resync`) are named here.

`python -m canteen.realtime.schemas` writes them as JSON Schema to
docs/realtime-messages.schema.json; backend/tests/api/test_realtime_messages.py checks
that file is current and validates real captured messages against it. Event payloads
(`data`) are open objects: each event type lists the keys it always carries, and a
consumer ignores keys it does not know.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from canteen.events.types import EventType
from canteen.orders.models import OrderStatus, PaymentStatus
from canteen.orders.schemas import OrderOut
from canteen.orders.state import Actor

Seq = Annotated[int, Field(ge=1, description="Position in the event log; ids only increase")]


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Event(_Message):
    """An event from the log (canteen.events.models.Event.to_message)."""

    id: uuid.UUID = Field(description="Event id: de-duplicate by it")
    seq: Seq
    at: datetime = Field(description="When it happened (UTC, ISO 8601)")
    data: dict[str, Any]


class _OrderEvent(_Event):
    order_id: uuid.UUID
    order_number: str
    status: OrderStatus = Field(description="The order's status after the event")
    payment_status: PaymentStatus = Field(description="The payment's status after the event")


class OrderCreatedData(_Message):
    order_type: Literal["pickup", "delivery"]
    payment_method: Literal["upi", "cash"]
    total: int = Field(description="Integer paise")
    items: list[dict[str, Any]] = Field(description="{name, quantity, notes} per line")


class OrderCreated(_OrderEvent):
    type: Literal[EventType.order_created]
    data: OrderCreatedData  # type: ignore[assignment]


class StatusChangedData(_Message):
    from_: OrderStatus = Field(alias="from")
    to: OrderStatus
    reason: str | None
    actor: Actor


class OrderStatusChanged(_OrderEvent):
    type: Literal[EventType.order_status_changed]
    data: StatusChangedData  # type: ignore[assignment]


class OrderPaymentUpdated(_OrderEvent):
    type: Literal[EventType.order_payment_updated]


class OrderAssigned(_OrderEvent):
    type: Literal[EventType.order_assigned]


class RecalledData(_Message):
    from_: OrderStatus = Field(alias="from", description="Where the mistaken move had put it")
    to: OrderStatus = Field(description="The status it is back in")
    reason: str
    actor: Actor
    recalled_seq: int = Field(description="The seq of the status change that was undone")


class OrderRecalled(_OrderEvent):
    """Kitchen staff put back a mistaken move (ready, handover, staff cancel)."""

    type: Literal[EventType.order_recalled]
    data: RecalledData  # type: ignore[assignment]


class LineDoneData(_Message):
    position: int = Field(description="The line's position in the order")
    done: bool = Field(description="false: the mark was taken back")
    name: str
    station_id: uuid.UUID | None
    all_done: bool = Field(description="Every line of the order is done now")


class OrderLineDone(_OrderEvent):
    """A station marked one line of the order done (or undone)."""

    type: Literal[EventType.order_line_done]
    data: LineDoneData  # type: ignore[assignment]


class EtaChangedData(_Message):
    from_: datetime | None = Field(alias="from", description="The estimate until now")
    to: datetime = Field(description="The new estimated ready time")
    minutes: int = Field(description="How far it moved, in minutes (negative: sooner)")
    notify: bool = Field(description="It moved more than 5 minutes: the student is told")


class OrderEtaChanged(_OrderEvent):
    """The kitchen's estimate of the order's ready time moved as the queue did."""

    type: Literal[EventType.order_eta_changed]
    data: EtaChangedData  # type: ignore[assignment]


class MenuUpdated(_Event):
    type: Literal[EventType.menu_updated]


class ConfigUpdated(_Event):
    type: Literal[EventType.config_updated]


OrderEvent = Annotated[
    OrderCreated
    | OrderStatusChanged
    | OrderPaymentUpdated
    | OrderAssigned
    | OrderRecalled
    | OrderLineDone
    | OrderEtaChanged,
    Field(discriminator="type"),
]


class OrderSnapshot(_Message):
    """The first message on an order socket: the order as GET /orders/{id} shows it."""

    type: Literal["order.snapshot"]
    order_id: uuid.UUID
    seq: int = Field(ge=0, description="The order's last event seq (0: none yet)")
    status: OrderStatus
    payment_status: PaymentStatus
    order: OrderOut


class Ping(BaseModel):
    """Sent to an idle socket every 25 s; nothing to do but ignore it."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["ping"]


class Hello(BaseModel):
    """The first SSE event (`event: hello`): where the stream starts."""

    model_config = ConfigDict(extra="forbid")
    last_event_id: int = Field(ge=0)
    replay: bool = Field(description="true when resuming from Last-Event-ID")


class MenuStreamEvent(BaseModel):
    """A students' menu stream event: re-read the menu and settings (ETags keep it cheap)."""

    model_config = ConfigDict(extra="forbid")
    seq: int = Field(ge=0)
    type: Literal[EventType.menu_updated, EventType.config_updated, "menu.resync"]
    at: datetime | None = None
    data: dict[str, Any]


# What each channel sends: the socket's text frames, and each SSE event's `data:` line.
OrderSocketMessage = Annotated[
    OrderSnapshot
    | Ping
    | OrderCreated
    | OrderStatusChanged
    | OrderPaymentUpdated
    | OrderAssigned
    | OrderRecalled
    | OrderLineDone
    | OrderEtaChanged,
    Field(discriminator="type"),
]
KitchenStreamData = (
    Hello
    | Annotated[
        OrderCreated
        | OrderStatusChanged
        | OrderPaymentUpdated
        | OrderAssigned
        | OrderRecalled
        | OrderLineDone
        | OrderEtaChanged
        | MenuUpdated
        | ConfigUpdated,
        Field(discriminator="type"),
    ]
)
MenuStreamData = Hello | MenuStreamEvent

CHANNELS: dict[str, tuple[str, Any]] = {
    "order_socket": (
        "WebSocket /api/v1/ws/orders/{order_id}?token=…: one JSON text frame per message",
        OrderSocketMessage,
    ),
    "kitchen_stream": (
        "SSE /api/v1/admin/orders/stream: each event's `data:` line (`event:` is `hello` or "
        "the type; `id:` is the seq)",
        KitchenStreamData,
    ),
    "menu_stream": (
        "SSE /api/v1/menu/stream: each event's `data:` line (`event:` is `hello` or the type)",
        MenuStreamData,
    ),
}


def json_schemas() -> dict[str, Any]:
    """One JSON Schema (draft 2020-12) per channel."""
    out: dict[str, Any] = {
        "$comment": "Generated by `python -m canteen.realtime.schemas`; do not edit by hand.",
    }
    for name, (description, annotation) in CHANNELS.items():
        schema = TypeAdapter(annotation).json_schema(by_alias=True)
        out[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": description,
            **schema,
        }
    return out


DOC = Path(__file__).resolve().parents[4] / "docs" / "realtime-messages.schema.json"


def render() -> str:
    return json.dumps(json_schemas(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DOC
    target.write_text(render())
    print(f"wrote {target}")
