from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from canteen.core.db import Base, IdMixin, TimestampMixin, UTCDateTime


class OrderStatus(StrEnum):
    received = "received"
    confirmed = "confirmed"
    preparing = "preparing"
    ready = "ready"
    out_for_delivery = "out_for_delivery"
    completed = "completed"
    cancelled = "cancelled"
    # A pickup order left ready past the canteen's collection window (issue 16).
    not_collected = "not_collected"


class PaymentStatus(StrEnum):
    pending = "pending"
    captured = "captured"
    failed = "failed"
    refunded = "refunded"
    cash_due = "cash_due"
    paid = "paid"


class PaymentMethod(StrEnum):
    upi = "upi"
    cash = "cash"


class OrderType(StrEnum):
    pickup = "pickup"
    delivery = "delivery"


# Moments most orders have not reached: their indexes hold an entry only once the moment
# happens (migration 0017), so a placement writes none.
INDEXED_WHEN_SET = (
    "ready_at",
    "completed_at",
    "cancelled_at",
    "feedback_at",
    "cash_collected_at",
    "delivery_staff_id",
)


class Order(IdMixin, TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        # The database backs the idempotency store up: one order per customer and key.
        UniqueConstraint("customer_id", "idempotency_key", name="uq_orders_customer_idempotency"),
        UniqueConstraint("business_date", "daily_seq", name="uq_orders_business_date_seq"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        Index("ix_orders_status_created", "status", "created_at"),
        *(
            Index(
                f"ix_orders_{column}",
                column,
                postgresql_where=text(f"{column} IS NOT NULL"),
                sqlite_where=text(f"{column} IS NOT NULL"),
            )
            for column in INDEXED_WHEN_SET
        ),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    business_date: Mapped[date] = mapped_column(Date)
    daily_seq: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(24))
    payment_method: Mapped[str] = mapped_column(String(8))
    payment_status: Mapped[str] = mapped_column(String(16))
    order_type: Mapped[str] = mapped_column(String(16))
    delivery_address: Mapped[str | None] = mapped_column(Text)
    time_slot: Mapped[str | None] = mapped_column(String(32))
    instructions: Mapped[str | None] = mapped_column(Text)
    subtotal: Mapped[int] = mapped_column(Integer)
    delivery_fee: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    pickup_code: Mapped[str] = mapped_column(String(4))
    prep_minutes: Mapped[int] = mapped_column(Integer, default=0)
    estimated_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The kitchen window the order reserved and the minutes it took there (issue 16);
    # a cancel gives them back. None for orders placed before capacity existed.
    pickup_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pickup_window_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The estimate the student was last told (placement, or a push): kitchen.reestimate
    # pushes again when the estimate moves more than 5 minutes from it.
    promised_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # customer | kitchen | admin | system (payment timeout): the student is told who.
    cancelled_by: Mapped[str | None] = mapped_column(String(16))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    preparing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_rating: Mapped[int | None] = mapped_column(SmallInteger)
    feedback_comment: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Cash taken at the counter or the door: when, by whom, how much (the cash-drawer report).
    cash_collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cash_collected_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    cash_collected_amount: Mapped[int | None] = mapped_column(Integer)

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", lazy="selectin", order_by="OrderItem.position"
    )


class OrderItem(IdMixin, Base):
    """One line, with the name and price as they were when the order was placed."""

    __tablename__ = "order_items"

    # Checked at commit: a placement writes its lines before its order (migration 0018).
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE", deferrable=True, initially="DEFERRED"),
        index=True,
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    menu_item_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(SmallInteger)
    line_total: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(String(500))
    prep_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # The chosen options as they were: [{"id", "group", "name", "price_delta"}] (issue 16).
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")

    order: Mapped[Order] = relationship(back_populates="items")


class OrderDayCounter(Base):
    """The per-day order number sequence, in the canteen's time zone."""

    __tablename__ = "order_day_counters"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
