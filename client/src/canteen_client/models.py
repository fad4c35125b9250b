"""What the API answers, as small frozen dataclasses.

Money is integer paise (₹45 is 4500), ids are UUID strings, times are aware datetimes.
Every model keeps the JSON it was built from in `raw`, so fields the server adds later
are never lost to an older SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# not_collected: a ready pickup order left past the canteen's collection window (issue 16).
TERMINAL_STATUSES = frozenset({"completed", "cancelled", "not_collected"})


class OrderAction(StrEnum):
    """What a customer may do with their order (`Order.actions`)."""

    cancel = "cancel"
    pay = "pay"  # open the checkout of `Order.payment`, then verify
    retry_payment = "retry_payment"
    switch_to_cash = "switch_to_cash"
    feedback = "feedback"


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _req_dt(value: Any) -> datetime:
    parsed = _dt(value)
    if parsed is None:
        raise ValueError(f"expected an ISO datetime, got {value!r}")
    return parsed


def _time(value: Any) -> time:
    return time.fromisoformat(str(value))


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


@dataclass(frozen=True, slots=True)
class User:
    id: str
    phone: str
    name: str | None
    email: str | None
    role: str
    is_active: bool
    created_at: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> User:
        return cls(
            id=str(d["id"]),
            phone=str(d["phone"]),
            name=_opt_str(d.get("name")),
            email=_opt_str(d.get("email")),
            role=str(d.get("role", "customer")),
            is_active=bool(d.get("is_active", True)),
            created_at=_dt(d.get("created_at")),
            raw=dict(d),
        )


@dataclass(frozen=True, slots=True)
class OtpRequested:
    expires_in: int
    resend_after: int

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OtpRequested:
        return cls(expires_in=int(d["expires_in"]), resend_after=int(d["resend_after"]))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list answer (`meta`: page, per_page, total)."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total

    @classmethod
    def from_envelope(cls, body: Mapping[str, Any], parse: Callable[[Any], T]) -> Page[T]:
        meta = body.get("meta") or {}
        data = body.get("data") or []
        return cls(
            items=[parse(x) for x in data],
            page=int(meta.get("page", 1)),
            per_page=int(meta.get("per_page", len(data))),
            total=int(meta.get("total", len(data))),
        )


# ---- menu and settings ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    name: str
    sort_order: int
    is_active: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Category:
        return cls(
            id=str(d["id"]),
            name=str(d["name"]),
            sort_order=int(d.get("sort_order", 0)),
            is_active=bool(d.get("is_active", True)),
            raw=dict(d),
        )


@dataclass(frozen=True, slots=True)
class MenuOption:
    """One choice in a dish's option group; `price_delta` (paise) is added to the price."""

    id: str
    name: str
    price_delta: int
    is_available: bool

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> MenuOption:
        return cls(
            id=str(d["id"]),
            name=str(d["name"]),
            price_delta=int(d.get("price_delta", 0)),
            is_available=bool(d.get("is_available", True)),
        )


@dataclass(frozen=True, slots=True)
class OptionGroup:
    """Half/full, filling, add-ons: `kind` is "single" or "multiple"; the student picks
    between `min_select` and `max_select` options (at least one if `required`)."""

    id: str
    name: str
    kind: str
    required: bool
    min_select: int
    max_select: int
    options: list[MenuOption]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OptionGroup:
        options = [MenuOption.from_json(o) for o in d.get("options") or []]
        return cls(
            id=str(d["id"]),
            name=str(d["name"]),
            kind=str(d.get("kind", "single")),
            required=bool(d.get("required", False)),
            min_select=int(d.get("min_select", 0)),
            max_select=int(d.get("max_select", len(options))),
            options=options,
        )


@dataclass(frozen=True, slots=True)
class MenuItem:
    id: str
    category_id: str
    name: str
    description: str | None
    price: int
    diet: str
    allergens: list[str]
    image_url: str | None
    thumbnail_url: str | None
    is_available: bool
    sold_out: bool
    stock_remaining: int | None
    daily_stock: int | None
    time_slots: list[str]
    prep_minutes: int
    sort_order: int
    option_groups: list[OptionGroup] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def orderable(self) -> bool:
        return self.is_available and not self.sold_out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> MenuItem:
        return cls(
            id=str(d["id"]),
            category_id=str(d["category_id"]),
            name=str(d["name"]),
            description=_opt_str(d.get("description")),
            price=int(d["price"]),
            diet=str(d.get("diet", "")),
            allergens=[str(a) for a in d.get("allergens") or []],
            image_url=_opt_str(d.get("image_url")),
            thumbnail_url=_opt_str(d.get("thumbnail_url")),
            is_available=bool(d.get("is_available", True)),
            sold_out=bool(d.get("sold_out", False)),
            stock_remaining=_opt_int(d.get("stock_remaining")),
            daily_stock=_opt_int(d.get("daily_stock")),
            time_slots=[str(s) for s in d.get("time_slots") or []],
            prep_minutes=int(d.get("prep_minutes", 0)),
            sort_order=int(d.get("sort_order", 0)),
            option_groups=[OptionGroup.from_json(g) for g in d.get("option_groups") or []],
            raw=dict(d),
        )


@dataclass(frozen=True, slots=True)
class TimeSlot:
    code: str
    label: str
    start_time: time
    end_time: time

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TimeSlot:
        return cls(
            code=str(d["code"]),
            label=str(d.get("label", d["code"])),
            start_time=_time(d["start_time"]),
            end_time=_time(d["end_time"]),
        )


@dataclass(frozen=True, slots=True)
class KitchenWindow:
    """One 15-minute window of a slot with room in the kitchen (`GET /menu/windows`)."""

    window: str  # its start in canteen time, as `checkout(pickup_window=...)` takes it
    start: datetime
    end: datetime
    room_minutes: int
    ready_around: datetime

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> KitchenWindow:
        return cls(
            window=str(d["window"]),
            start=_req_dt(d["start"]),
            end=_req_dt(d["end"]),
            room_minutes=int(d["room_minutes"]),
            ready_around=_req_dt(d["ready_around"]),
        )


@dataclass(frozen=True, slots=True)
class KitchenWindows:
    """A slot's windows with room and whether the kitchen is busy ("ready around …")."""

    time_slot: str
    minutes_per_window: int
    kitchen_busy: bool
    ready_around: datetime | None
    windows: list[KitchenWindow]
    cart_minutes: int | None = None  # the cart's kitchen minutes, when a cart was given

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> KitchenWindows:
        return cls(
            time_slot=str(d["time_slot"]),
            minutes_per_window=int(d["minutes_per_window"]),
            kitchen_busy=bool(d["kitchen_busy"]),
            ready_around=_dt(d.get("ready_around")),
            windows=[KitchenWindow.from_json(w) for w in d.get("windows") or []],
            cart_minutes=None if d.get("cart_minutes") is None else int(d["cart_minutes"]),
        )


@dataclass(frozen=True, slots=True)
class PublicConfig:
    """`GET /config/public` (design §10.3): what the app shows and allows right now."""

    delivery_enabled: bool
    cash_payment_enabled: bool
    upi_payment_enabled: bool
    restaurant_open: bool
    ordering_paused: bool
    accepting_orders: bool
    delivery_fee: int
    currency: str
    razorpay_key_id: str
    timezone: str
    time_slots: list[TimeSlot]
    current_time_slot: str | None
    server_time: datetime | None
    # The canteen's limits on one order (None: the server does not say, older servers).
    max_items_per_order: int | None = None
    max_order_total: int | None = None  # paise
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PublicConfig:
        open_ = bool(d.get("restaurant_open", True))
        paused = bool(d.get("ordering_paused", False))
        return cls(
            delivery_enabled=bool(d.get("delivery_enabled", False)),
            cash_payment_enabled=bool(d.get("cash_payment_enabled", False)),
            upi_payment_enabled=bool(d.get("upi_payment_enabled", False)),
            restaurant_open=open_,
            ordering_paused=paused,
            accepting_orders=bool(d.get("accepting_orders", open_ and not paused)),
            delivery_fee=int(d.get("delivery_fee", 0)),
            currency=str(d.get("currency", "INR")),
            razorpay_key_id=str(d.get("razorpay_key_id", "")),
            timezone=str(d.get("timezone", "")),
            time_slots=[TimeSlot.from_json(s) for s in d.get("time_slots") or []],
            current_time_slot=_opt_str(d.get("current_time_slot")),
            server_time=_dt(d.get("server_time")),
            max_items_per_order=_opt_int(d.get("max_items_per_order")),
            max_order_total=_opt_int(d.get("max_order_total")),
            raw=dict(d),
        )


# ---- orders ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderLineOption:
    """A chosen option as it was when the order was placed (its price is in unit_price)."""

    id: str
    group: str
    name: str
    price_delta: int

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OrderLineOption:
        return cls(
            id=str(d["id"]),
            group=str(d.get("group", "")),
            name=str(d["name"]),
            price_delta=int(d.get("price_delta", 0)),
        )


@dataclass(frozen=True, slots=True)
class OrderLine:
    menu_item_id: str
    name: str
    unit_price: int
    quantity: int
    line_total: int
    notes: str | None
    options: list[OrderLineOption] = field(default_factory=list)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OrderLine:
        return cls(
            menu_item_id=str(d["menu_item_id"]),
            name=str(d["name"]),
            unit_price=int(d["unit_price"]),
            quantity=int(d["quantity"]),
            line_total=int(d["line_total"]),
            notes=_opt_str(d.get("notes")),
            options=[OrderLineOption.from_json(o) for o in d.get("options") or []],
        )


@dataclass(frozen=True, slots=True)
class Feedback:
    rating: int
    comment: str | None
    created_at: datetime | None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Feedback:
        return cls(
            rating=int(d["rating"]),
            comment=_opt_str(d.get("comment")),
            created_at=_dt(d.get("created_at")),
        )


@dataclass(frozen=True, slots=True)
class PaymentInfo:
    """What the app needs to open the gateway's checkout for a UPI order (design §8.1)."""

    gateway: str
    key_id: str
    gateway_order_id: str
    amount: int
    currency: str
    checkout_url: str | None
    # The gateway payment's own state and why it failed, when the server says (newer
    # servers do; older ones only set the order's `payment_status`).
    status: str | None = None
    failure_reason: str | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PaymentInfo:
        return cls(
            gateway=str(d.get("gateway", "")),
            key_id=str(d.get("key_id", "")),
            gateway_order_id=str(d["gateway_order_id"]),
            amount=int(d["amount"]),
            currency=str(d.get("currency", "INR")),
            checkout_url=_opt_str(d.get("checkout_url")),
            status=_opt_str(d.get("status")),
            failure_reason=_opt_str(
                d.get("failure_reason") or d.get("error_description") or d.get("error")
            ),
        )


@dataclass(frozen=True, slots=True)
class RefundInfo:
    """The refund of a cancelled, paid UPI order: `status` is requested | pending |
    processed | failed (the gateway's words), `amount` in paise."""

    status: str
    amount: int
    reason: str | None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RefundInfo:
        return cls(
            status=str(d.get("status", "")),
            amount=int(d.get("amount", 0)),
            reason=_opt_str(d.get("reason")),
        )


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    number: str
    status: str
    payment_method: str
    payment_status: str
    order_type: str
    delivery_address: str | None
    time_slot: str | None
    instructions: str | None
    items: list[OrderLine]
    subtotal: int
    delivery_fee: int
    total: int
    currency: str
    pickup_code: str
    estimated_ready_at: datetime | None
    cancel_reason: str | None
    delivery_staff_id: str | None
    feedback: Feedback | None
    payment: PaymentInfo | None
    created_at: datetime
    updated_at: datetime
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    refund: RefundInfo | None = None
    # Who cancelled it (customer | kitchen | admin | system), where the server says.
    cancelled_by: str | None = None
    # What the customer may do now (OrderAction values), by the server's own rules; a
    # value this SDK does not know yet is kept as it came. Older servers send none.
    actions: tuple[str, ...] = ()
    # The kitchen window the order reserved (issue 16); None from older servers.
    pickup_window_start: datetime | None = None
    pickup_window_end: datetime | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def can(self, action: OrderAction | str) -> bool:
        """True when the server lists `action` for this order now."""
        return str(action) in self.actions

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Order:
        feedback = d.get("feedback")
        payment = d.get("payment")
        refund = d.get("refund")
        return cls(
            id=str(d["id"]),
            number=str(d["number"]),
            status=str(d["status"]),
            payment_method=str(d["payment_method"]),
            payment_status=str(d["payment_status"]),
            order_type=str(d["order_type"]),
            delivery_address=_opt_str(d.get("delivery_address")),
            time_slot=_opt_str(d.get("time_slot")),
            instructions=_opt_str(d.get("instructions")),
            items=[OrderLine.from_json(x) for x in d.get("items") or []],
            subtotal=int(d["subtotal"]),
            delivery_fee=int(d.get("delivery_fee", 0)),
            total=int(d["total"]),
            currency=str(d.get("currency", "INR")),
            pickup_code=str(d.get("pickup_code", "")),
            estimated_ready_at=_dt(d.get("estimated_ready_at")),
            cancel_reason=_opt_str(d.get("cancel_reason")),
            delivery_staff_id=_opt_str(d.get("delivery_staff_id")),
            feedback=Feedback.from_json(feedback) if isinstance(feedback, Mapping) else None,
            payment=PaymentInfo.from_json(payment) if isinstance(payment, Mapping) else None,
            created_at=_req_dt(d["created_at"]),
            updated_at=_req_dt(d["updated_at"]),
            raw=dict(d),
            refund=RefundInfo.from_json(refund) if isinstance(refund, Mapping) else None,
            cancelled_by=_opt_str(d.get("cancelled_by")),
            actions=tuple(str(a) for a in d.get("actions") or ()),
            pickup_window_start=_dt(d.get("pickup_window_start")),
            pickup_window_end=_dt(d.get("pickup_window_end")),
        )


@dataclass(frozen=True, slots=True)
class DeviceToken:
    token: str
    platform: str
    updated_at: datetime | None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> DeviceToken:
        return cls(
            token=str(d["token"]),
            platform=str(d["platform"]),
            updated_at=_dt(d.get("updated_at")),
        )


@dataclass(frozen=True, slots=True)
class OrderState:
    """One state of a tracked order, as `OrderTracker` yields it.

    `source` is `websocket` or `polling`; `event` is the message that announced it
    (`order.snapshot`, `order.status_changed`, `order.payment_updated`, ... or `poll`);
    `order` is the full order when the message carried it (snapshots and polls)."""

    order_id: str
    status: str
    payment_status: str | None
    seq: int | None
    event: str
    source: str
    order: Order | None = None
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES
