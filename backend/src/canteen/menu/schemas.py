"""Request and response shapes for the menu, time slots and canteen settings."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from canteen.core.strict import Bool, JsonInt
from canteen.menu.models import Allergen, Diet, MenuItem
from canteen.menu.options import OptionGroupOut, OptionGroups

MAX_PRICE = 10_000_00  # ₹10,000 in paise: anything above is a typo, not a dish
MAX_DELIVERY_FEE = 1_000_00
MAX_PREP_MINUTES = 240
MAX_DAILY_STOCK = 100_000
MAX_SORT = 1_000_000
# Slot codes the item filter reserves (`?time_slot=current`).
RESERVED_SLOT_CODES = frozenset({"current", "all", "now"})

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
CategoryName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


def _code(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


# Codes are trimmed and lower-cased before the check, so the schema admits what that accepts.
_SLOT_CODE = r"[A-Za-z][A-Za-z0-9_]{1,31}"
SlotCode = Annotated[
    str,
    BeforeValidator(_code),
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$"),
    WithJsonSchema({"type": "string", "pattern": rf"^\s*{_SLOT_CODE}\s*$"}),
]


def _some_slot(codes: list[str]) -> list[str]:
    if not codes:
        # The issue name the menu service used before the schema said it (clients use it).
        raise PydanticCustomError("required", "An item must be sold in at least one time slot")
    return codes


SlotCodes = Annotated[
    list[SlotCode],
    Field(max_length=32, json_schema_extra={"minItems": 1}),
    AfterValidator(_some_slot),
]
Price = Annotated[int, Field(gt=0, le=MAX_PRICE, description="Integer paise; ₹45 is 4500"), JsonInt]
SortOrder = Annotated[int, Field(ge=-MAX_SORT, le=MAX_SORT), JsonInt]
PrepMinutes = Annotated[int, Field(ge=0, le=MAX_PREP_MINUTES), JsonInt]
DailyStock = Annotated[int, Field(ge=0, le=MAX_DAILY_STOCK), JsonInt]
Fee = Annotated[int, Field(ge=0, le=MAX_DELIVERY_FEE, description="Integer paise"), JsonInt]
ItemsPerOrder = Annotated[int, Field(ge=1, le=500, description="Total quantity"), JsonInt]
OrderTotalCap = Annotated[int, Field(ge=100, le=10_000_000, description="Integer paise"), JsonInt]
WindowMinutes = Annotated[int, Field(ge=5, le=240, description="Minutes"), JsonInt]
NoShowLimit = Annotated[int, Field(ge=1, le=100, description="No-shows"), JsonInt]


# Slot times are the canteen's wall-clock times without a zone, sent as "07:30:00".
# JSON Schema's `format: time` requires a zone, so the schema says what is really sent
# and accepted, by pattern; the validator accepts exactly that pattern.
_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9]"
CLOCK_TIME_OUT = re.compile(rf"^{_CLOCK}:[0-5][0-9]$")
CLOCK_TIME_IN = re.compile(rf"^{_CLOCK}(:[0-5][0-9](\.[0-9]{{1,6}})?)?$")


def _local_time(value: Any, handler: ValidatorFunctionWrapHandler) -> time:
    if isinstance(value, time):
        parsed = value
    elif isinstance(value, str):
        parsed = handler(value)
    else:
        raise PydanticCustomError("time_type", 'Give the time as text, e.g. "12:30"')
    if parsed.tzinfo is not None:
        raise ValueError("give the canteen's local time without a time zone, e.g. 12:30")
    if isinstance(value, str) and not CLOCK_TIME_IN.match(value):
        raise PydanticCustomError(
            "time_parsing", 'Give the time as HH:MM or HH:MM:SS, e.g. "12:30"'
        )
    return parsed.replace(microsecond=0)


LocalTime = Annotated[
    time,
    WrapValidator(_local_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": CLOCK_TIME_IN.pattern,
            "description": "Canteen-local time without a zone (HH:MM or HH:MM:SS)",
            "examples": ["12:30"],
        }
    ),
]
# What the API sends: always HH:MM:SS, canteen-local.
ClockTime = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": CLOCK_TIME_OUT.pattern,
            "description": "Canteen-local time (settings.timezone), HH:MM:SS",
            "examples": ["07:30:00"],
        }
    ),
]


def _not_reserved(code: str) -> str:
    if code in RESERVED_SLOT_CODES:
        raise ValueError(f"{code!r} is reserved; choose another code")
    return code


_RESERVED_RE = "|".join(
    "".join(f"[{ch.upper()}{ch}]" for ch in code) for code in sorted(RESERVED_SLOT_CODES)
)
NewSlotCode = Annotated[
    SlotCode,
    AfterValidator(_not_reserved),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": rf"^\s*(?!(?:{_RESERVED_RE})\s*$){_SLOT_CODE}\s*$",
            "description": "Letters, digits and _ (lower-cased); not "
            + ", ".join(sorted(RESERVED_SLOT_CODES)),
        }
    ),
]


class _Patch(BaseModel):
    """A partial update: absent fields stay as they are; null is refused where a value
    is required (`not_null`), so a PATCH can never blank out a mandatory column."""

    not_null: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The fields are `X | None` only so that absence can be told apart; a null is
        # refused for the `not_null` ones, so their schema must not offer it.
        schema = handler.resolve_ref_schema(handler(core_schema))
        for name in cls.not_null:
            prop = schema.get("properties", {}).get(name)
            if prop is None or "anyOf" not in prop:
                continue
            options = [o for o in prop["anyOf"] if o != {"type": "null"}]
            if len(options) == 1:
                del prop["anyOf"]
                prop.update(options[0])
            else:
                prop["anyOf"] = options
            if prop.get("default", 0) is None:
                del prop["default"]
        return schema

    @field_validator("*", mode="after")
    @classmethod
    def _no_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_null:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


# ---- categories ----------------------------------------------------------------------


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    sort_order: int
    is_active: bool


class CategoryCreate(BaseModel):
    name: CategoryName
    sort_order: SortOrder = 0
    is_active: Bool = True


class CategoryUpdate(_Patch):
    not_null: ClassVar[frozenset[str]] = frozenset({"name", "sort_order", "is_active"})

    name: CategoryName | None = None
    sort_order: SortOrder | None = None
    is_active: Bool | None = None


# ---- time slots ----------------------------------------------------------------------


class TimeSlotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    label: str
    start_time: ClockTime = Field(description="Canteen-local time (settings.timezone)")
    end_time: ClockTime = Field(description="Canteen-local time, after start_time")
    is_active: bool
    sort_order: int


class TimeSlotCreate(BaseModel):
    code: NewSlotCode
    label: Label
    start_time: LocalTime
    end_time: LocalTime
    is_active: Bool = True
    sort_order: SortOrder = 0


class TimeSlotUpdate(_Patch):
    not_null: ClassVar[frozenset[str]] = frozenset(
        {"code", "label", "start_time", "end_time", "is_active", "sort_order"}
    )

    code: NewSlotCode | None = None
    label: Label | None = None
    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
    is_active: Bool | None = None
    sort_order: SortOrder | None = None


# ---- items ---------------------------------------------------------------------------


class MenuItemOut(BaseModel):
    id: uuid.UUID
    category_id: uuid.UUID
    name: str
    description: str | None
    price: int = Field(description="Integer paise")
    diet: Diet
    allergens: list[Allergen]
    image_url: str | None = Field(description="Display size (WebP); relative URLs are on this host")
    thumbnail_url: str | None
    is_available: bool = Field(description="The kitchen's switch (false = 86'd)")
    sold_out: bool = Field(description="Not available, or no stock left today")
    stock_remaining: int | None = Field(description="Left today; null = no daily limit")
    daily_stock: int | None
    time_slots: list[str] = Field(description="Codes of the time slots the item is sold in")
    prep_minutes: int
    sort_order: int
    option_groups: list[OptionGroupOut] = Field(
        default_factory=list, description="Choices the student makes; see docs/menu.md"
    )
    station_id: uuid.UUID | None = Field(
        default=None, description="The kitchen station that makes it (null: none)"
    )

    @classmethod
    def of(cls, item: MenuItem) -> MenuItemOut:
        """From a loaded item (its `slots` must be loaded)."""
        return cls(
            id=item.id,
            category_id=item.category_id,
            name=item.name,
            description=item.description,
            price=item.price,
            diet=Diet(item.diet),
            allergens=[Allergen(a) for a in item.allergens],
            image_url=item.image_url,
            thumbnail_url=item.thumbnail_url,
            is_available=item.is_available,
            sold_out=item.sold_out,
            stock_remaining=item.stock_remaining,
            daily_stock=item.daily_stock,
            time_slots=[s.code for s in item.slots],
            prep_minutes=item.prep_minutes,
            sort_order=item.sort_order,
            option_groups=[OptionGroupOut.model_validate(g) for g in item.option_groups or []],
            station_id=item.station_id,
        )


class MenuItemCreate(BaseModel):
    category_id: uuid.UUID
    name: Name
    description: Description | None = None
    price: Price
    diet: Diet
    allergens: list[Allergen] = Field(default_factory=list, max_length=len(Allergen))
    time_slots: SlotCodes = Field(description="Codes of the slots the item is sold in")
    is_available: Bool = True
    prep_minutes: PrepMinutes = 10
    daily_stock: DailyStock | None = Field(
        default=None, description="Portions per day; null = unlimited. Setting it refills today."
    )
    sort_order: SortOrder = 0
    option_groups: OptionGroups = Field(default_factory=list)


class MenuItemUpdate(_Patch):
    not_null: ClassVar[frozenset[str]] = frozenset(
        {
            "category_id",
            "name",
            "price",
            "diet",
            "allergens",
            "time_slots",
            "is_available",
            "prep_minutes",
            "sort_order",
            "option_groups",
        }
    )

    category_id: uuid.UUID | None = None
    name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    diet: Diet | None = None
    allergens: list[Allergen] | None = Field(default=None, max_length=len(Allergen))
    time_slots: SlotCodes | None = None
    is_available: Bool | None = None
    prep_minutes: PrepMinutes | None = None
    daily_stock: DailyStock | None = None
    sort_order: SortOrder | None = None
    option_groups: OptionGroups | None = Field(
        default=None, description="The whole list; send the ids to keep options' ids"
    )


class AvailabilityUpdate(BaseModel):
    is_available: Bool


class StockReset(BaseModel):
    items_refilled: int


# ---- canteen settings ----------------------------------------------------------------


class _ConfigFields(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    delivery_enabled: bool
    cash_payment_enabled: bool
    upi_payment_enabled: bool
    restaurant_open: bool
    ordering_paused: bool = Field(description="The kitchen's 'pause new orders' switch")
    delivery_fee: int = Field(description="Integer paise")
    currency: str
    max_items_per_order: int = Field(description="Most dishes (total quantity) one order may hold")
    max_order_total: int = Field(description="Largest total one order may have, integer paise")
    ready_sms_enabled: bool = Field(description="Text the student when the order is ready")


class ConfigOut(_ConfigFields):
    """What an admin sees and edits."""

    collection_window_minutes: int = Field(
        description="A ready pickup order not collected this many minutes after it was ready "
        "becomes not_collected. A paid UPI order that is not collected is not refunded "
        "automatically (the food was made); an admin can refund it by hand with a reason"
    )
    no_show_cash_limit: int | None = Field(
        description="After this many uncollected orders a customer may only pay by UPI "
        "(null: no limit)"
    )
    updated_at: datetime


class PublicTimeSlot(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    label: str
    start_time: ClockTime
    end_time: ClockTime


class PublicConfig(_ConfigFields):
    """What the apps need (design §10.3), fetched on start and every few minutes."""

    accepting_orders: bool = Field(description="restaurant_open and not ordering_paused")
    razorpay_key_id: str = Field(description="Public key id for the Razorpay checkout")
    timezone: str = Field(description="The canteen's time zone; slot times are in it")
    time_slots: list[PublicTimeSlot] = Field(description="Active slots in serving order")
    current_time_slot: str | None = Field(description="Code of the slot being served now")
    server_time: datetime


class ConfigUpdate(_Patch):
    not_null: ClassVar[frozenset[str]] = frozenset(
        {
            "delivery_enabled",
            "cash_payment_enabled",
            "upi_payment_enabled",
            "restaurant_open",
            "ordering_paused",
            "delivery_fee",
            "max_items_per_order",
            "max_order_total",
            "ready_sms_enabled",
            "collection_window_minutes",
        }
    )

    delivery_enabled: Bool | None = None
    cash_payment_enabled: Bool | None = None
    upi_payment_enabled: Bool | None = None
    restaurant_open: Bool | None = None
    ordering_paused: Bool | None = None
    delivery_fee: Fee | None = None
    max_items_per_order: ItemsPerOrder | None = None
    max_order_total: OrderTotalCap | None = None
    ready_sms_enabled: Bool | None = None
    collection_window_minutes: WindowMinutes | None = None
    no_show_cash_limit: NoShowLimit | None = Field(default=None, description="null: no limit")
