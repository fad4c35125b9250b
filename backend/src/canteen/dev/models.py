from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from canteen.core.db import Base, IdMixin, TimestampMixin


class DevOutboxMessage(IdMixin, TimestampMixin, Base):
    """What the development SMS and push providers would have sent."""

    __tablename__ = "dev_outbox"

    channel: Mapped[str] = mapped_column(String(16), index=True)  # sms | push
    to: Mapped[str] = mapped_column(String(4096))
    body: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
