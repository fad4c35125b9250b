"""Kitchen stations (Dosa tawa, Tandoor, …), the done marks of order lines, and the floor's
one setting. A canteen with no stations has no rows here and works as before."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, SmallInteger, String, false
from sqlalchemy.orm import Mapped, mapped_column

from canteen.core.db import Base, IdMixin, TimestampMixin, UTCDateTime


class Station(IdMixin, TimestampMixin, Base):
    __tablename__ = "stations"

    name: Mapped[str] = mapped_column(String(60), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # The station's own ESC/POS printer; null: its tickets go to the canteen's printer.
    printer_host: Mapped[str | None] = mapped_column(String(253), default=None)
    printer_port: Mapped[int | None] = mapped_column(Integer, default=None)


class LineMark(Base):
    """One order line marked done by its station (the line is the order's `position`)."""

    __tablename__ = "order_line_marks"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_by: Mapped[uuid.UUID | None] = mapped_column()


class FloorSettings(Base):
    __tablename__ = "floor_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=1)
    # Every line done turns a preparing order ready by itself (else the expediter does).
    auto_ready: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
