from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from canteen.core.db import Base, UTCDateTime, utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class Event(Base):
    """The event log and transactional outbox in one table.

    A row is written in the same transaction as the change it describes; `seq` orders
    the log (SSE ids and replay), `dispatched_at` is set once the dispatcher has handed
    it to the bus and the jobs.
    """

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(64), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    order_number: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(32))
    payment_status: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    def to_message(self) -> dict[str, Any]:
        """The event JSON that WebSocket, SSE and push consumers receive."""
        message: dict[str, Any] = {
            "id": str(self.id),
            "seq": self.seq,
            "type": self.type,
            "at": self.created_at.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }
        if self.order_id is not None:
            message["order_id"] = str(self.order_id)
        for key in ("order_number", "status", "payment_status"):
            value = getattr(self, key)
            if value is not None:
                message[key] = value
        return message
