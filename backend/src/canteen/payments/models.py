from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from canteen.core.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


class PaymentState(StrEnum):
    """The gateway payment's own status (the `payments` row). The order's
    `payment_status` is another thing: `canteen.orders.models.PaymentStatus`."""

    created = "created"  # awaiting the customer
    captured = "captured"
    failed = "failed"
    refunded = "refunded"
    abandoned = "abandoned"  # switched to cash


class RefundState(StrEnum):
    requested = "requested"  # recorded, not yet sent to the gateway
    pending = "pending"
    processed = "processed"
    failed = "failed"


FINAL_REFUND_STATES = frozenset({RefundState.processed, RefundState.failed})


class Payment(IdMixin, TimestampMixin, Base):
    """The gateway side of one UPI order: one gateway order per order (retries reuse it,
    as Razorpay allows for INR), so `order_id` is unique."""

    __tablename__ = "payments"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), unique=True
    )
    gateway: Mapped[str] = mapped_column(String(16))
    gateway_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    gateway_payment_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # a PaymentState
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_description: Mapped[str | None] = mapped_column(String(500))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Refund(IdMixin, TimestampMixin, Base):
    __tablename__ = "refunds"

    payment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    gateway_refund_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # a RefundState
    reason: Mapped[str] = mapped_column(String(500))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    error: Mapped[str | None] = mapped_column(Text)


class WebhookEvent(Base):
    """Every verified gateway webhook, stored once by its event id before it is processed."""

    __tablename__ = "webhook_events"
    # The sweep reads only unapplied events (migration 0009).
    __table_args__ = (
        Index(
            "ix_webhook_events_unapplied",
            "received_at",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(200))
