from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from canteen.core.strict import Int, JsonInt
from canteen.events.types import EventType
from canteen.orders.actions import CustomerAction

MAX_LINES = 30
# A whole number of paise, as JSON's own integer (canteen.core.strict); the bound inside the
# type so that `| None` keeps it in the schema as `minimum`.
Paise = Annotated[int, Field(ge=0), JsonInt]
# Most of one dish in one order; also checked across lines of the same dish.
MAX_PER_DISH = 20
MAX_OPTIONS_PER_LINE = 20


class OrderLineIn(BaseModel):
    menu_item_id: uuid.UUID
    # The cap is a rule with a reason, so its message says it (not "less than or equal").
    quantity: Int = Field(ge=1, json_schema_extra={"maximum": MAX_PER_DISH})
    notes: str | None = Field(default=None, max_length=200)
    unit_price: Paise | None = Field(
        default=None,
        description="The price the customer saw, integer paise. If the server's price "
        "differs, the answer is 409 PRICE_CHANGED and nothing is placed. With options, "
        "the dish's price plus the chosen options' deltas.",
    )
    options: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_OPTIONS_PER_LINE,
        description="Ids of the chosen options (the dish's option_groups); the same dish "
        "with other options is another line",
    )

    @field_validator("quantity")
    @classmethod
    def _at_most_per_dish(cls, value: int) -> int:
        if value > MAX_PER_DISH:
            raise PydanticCustomError(
                "too_many_of_one_dish", f"At most {MAX_PER_DISH} of one dish per order"
            )
        return value


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES)
    order_type: Literal["pickup", "delivery"]
    payment_method: Literal["upi", "cash"]
    delivery_address: str | None = Field(default=None, max_length=500)
    time_slot: str | None = Field(default=None, min_length=1, max_length=32)
    instructions: str | None = Field(default=None, max_length=500)
    pickup_window: str | None = Field(
        default=None,
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description='Pick up at this window of the slot (its start, canteen time, "13:15"; '
        "GET /menu/windows lists them). Without it the order takes the earliest window with "
        "room; a full window answers 409 SLOT_FULL with the next windows that have room.",
    )
    expected_total: Paise | None = Field(
        default=None,
        description="The total the customer saw at checkout, integer paise. If the server's "
        "total differs, the answer is 409 PRICE_CHANGED and nothing is placed; without it "
        "the server's prices apply (older clients).",
    )


class OrderLineOption(BaseModel):
    """A chosen option as it was when the order was placed."""

    id: uuid.UUID
    group: str
    name: str
    price_delta: int = Field(description="Integer paise, included in unit_price")


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    menu_item_id: uuid.UUID
    name: str
    unit_price: int = Field(description="The dish's price plus its options' deltas")
    quantity: int
    line_total: int
    notes: str | None
    options: list[OrderLineOption] = Field(default_factory=list)


class FeedbackOut(BaseModel):
    rating: int
    comment: str | None
    created_at: datetime


class PaymentInfo(BaseModel):
    gateway: str
    key_id: str
    gateway_order_id: str
    amount: int
    currency: str
    checkout_url: str | None = None
    status: Literal["created", "captured", "failed", "refunded"] = Field(
        default="created",
        description="created: waiting for the customer; failed: declined (retry or cash)",
    )
    failure_reason: str | None = Field(
        default=None, description="The gateway's words for a declined payment"
    )


class RefundOut(BaseModel):
    status: str
    amount: int
    reason: str


class OrderBase(BaseModel):
    """An order's fields, as the customer's and the kitchen's views both show them."""

    id: uuid.UUID
    number: str
    status: str
    payment_method: str
    payment_status: str
    order_type: str
    delivery_address: str | None
    time_slot: str | None
    instructions: str | None
    items: list[OrderLineOut]
    subtotal: int
    delivery_fee: int
    total: int
    currency: str
    pickup_code: str
    estimated_ready_at: datetime | None
    pickup_window_start: datetime | None = Field(
        default=None, description="The kitchen window the order reserved (null: older orders)"
    )
    pickup_window_end: datetime | None = None
    cancel_reason: str | None
    cancelled_by: Literal["customer", "kitchen", "admin", "delivery", "system"] | None = Field(
        default=None, description="Who cancelled the order (system: payment timeout)"
    )
    delivery_staff_id: uuid.UUID | None
    feedback: FeedbackOut | None
    payment: PaymentInfo | None = None
    refund: RefundOut | None = None
    created_at: datetime
    updated_at: datetime


class OrderOut(OrderBase):
    """The customer's order (orders.presenter, the one way it is shown)."""

    actions: list[CustomerAction] = Field(
        description="What the customer may do with this order now; each is accepted by its "
        "endpoint exactly when listed. cancel: POST /orders/{id}/cancel; pay: open the "
        "checkout of `payment` (then POST /payments/verify); retry_payment: POST "
        "/orders/{id}/payment/retry; switch_to_cash: POST /orders/{id}/payment/switch-to-cash; "
        "feedback: POST /orders/{id}/feedback."
    )


class CustomerSummary(BaseModel):
    id: uuid.UUID
    name: str | None
    phone: str


class KitchenOrderOut(OrderBase):
    customer: CustomerSummary
    allowed_next: list[str]
    age_seconds: int


class OrderEventOut(BaseModel):
    id: uuid.UUID
    seq: int
    type: EventType  # the one list of wire names, so generated clients get the enum
    status: str | None
    payment_status: str | None
    actor_id: uuid.UUID | None
    data: dict[str, Any]
    at: datetime


class KitchenOrderDetail(KitchenOrderOut):
    events: list[OrderEventOut]


class CancelRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class FeedbackIn(BaseModel):
    rating: Int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)


StaffTarget = Literal[
    "preparing", "ready", "out_for_delivery", "completed", "cancelled", "confirmed"
]


class StatusChange(BaseModel):
    status: StaffTarget
    reason: str | None = Field(default=None, max_length=500)
    pickup_code: str | None = Field(default=None, pattern=r"^\d{4}$")


class Handover(BaseModel):
    pickup_code: str = Field(pattern=r"^\d{4}$")


class AssignDelivery(BaseModel):
    staff_id: uuid.UUID


class DeliveryStatusChange(BaseModel):
    status: Literal["out_for_delivery", "completed"]
    pickup_code: str | None = Field(
        default=None,
        pattern=r"^\d{4}$",
        description="The customer's 4-digit code, asked for at the door: required to complete",
    )
