"""Report shapes. Money is in paise (integers) as everywhere in the API; times are ISO 8601
in the canteen's zone; dates are the canteen's local dates."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field


class SalesGroup(StrEnum):
    day = "day"
    time_slot = "time_slot"
    hour = "hour"
    payment_method = "payment_method"
    order_type = "order_type"


class DishGroup(StrEnum):
    dish = "dish"
    category = "category"


class Figures(BaseModel):
    """The numbers of a period; each counts on its own moment (docs/reports.md)."""

    orders: int = Field(description="Orders placed")
    revenue_upi: int = Field(description="UPI payments captured, paise")
    revenue_cash: int = Field(description="Cash orders handed over or delivered, paise")
    refunded: int = Field(description="Refunds requested (not failed), paise")
    net_revenue: int = Field(description="UPI + cash - refunded, paise")
    ready: int = Field(description="Orders marked ready")
    avg_prep_seconds: float | None = Field(description="Mean confirmed -> ready time")
    p90_prep_seconds: float | None = Field(description="90th percentile confirmed -> ready")
    late: int = Field(description="Orders ready after their estimate")
    cancelled: int = Field(description="Orders cancelled")
    uncollected: int = Field(description="Orders ready but never handed over")
    ratings: int = Field(description="Feedback given")
    avg_rating: float | None = Field(description="Mean feedback rating (1-5)")


class SalesRow(BaseModel):
    key: str
    label: str
    figures: Figures


class SalesReport(BaseModel):
    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    group: SalesGroup
    totals: Figures
    rows: list[SalesRow]


class DishRow(BaseModel):
    key: str
    label: str
    orders: int = Field(description="Orders placed with this dish (cancelled ones too)")
    quantity: int = Field(description="Portions sold in orders not cancelled")
    sales: int = Field(description="Line totals of orders not cancelled, paise")
    cancelled_quantity: int = Field(description="Portions in cancelled orders")


class DishReport(BaseModel):
    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    group: DishGroup
    rows: list[DishRow]


class Cancellation(BaseModel):
    cancelled_by: str
    reason: str
    count: int


class QuarterHour(BaseModel):
    start: str = Field(description="Local time the quarter hour begins, HH:MM")
    orders: int
    last_week: int


class Dashboard(BaseModel):
    today: date
    now: str = Field(description="The moment the figures stop, in the canteen's zone")
    last_week_day: date
    time_zone: str
    figures: Figures
    last_week: Figures = Field(description="The same weekday last week, up to the same time")
    cancellations: list[Cancellation]
    per_quarter_hour: list[QuarterHour]
    top_dishes: list[DishRow]


class StaffCash(BaseModel):
    staff_id: uuid.UUID | None
    name: str
    handed_over: int = Field(description="Cash orders handed over or delivered")
    collected: int = Field(description="Their totals, paise")


class CashDay(BaseModel):
    day: date
    due: int = Field(description="Cash orders made ready that day and not cancelled, paise")
    collected: int = Field(description="Cash orders handed over or delivered that day, paise")
    difference: int = Field(description="due - collected, paise")
    staff: list[StaffCash]


class RefundRow(BaseModel):
    order_id: uuid.UUID
    order_number: str
    at: str
    amount: int
    reason: str
    status: str
    gateway_refund_id: str | None


class FeedbackRow(BaseModel):
    order_id: uuid.UUID
    order_number: str
    at: str
    rating: int
    comment: str | None
    items: str
