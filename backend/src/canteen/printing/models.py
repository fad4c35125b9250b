"""The canteen's printer settings: one row, read and changed by admins only.

Kept apart from the canteen settings row (menu.config) on purpose: that row is served to
every student by GET /config, and a printer's address inside the kitchen's network is
nobody's business outside it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from canteen.core.db import Base, UTCDateTime, utcnow

SETTINGS_ID = 1
DEFAULT_PORT = 9100  # the raw printing port of network thermal printers (JetDirect)


class PrinterSettings(Base):
    __tablename__ = "printer_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    auto_print: Mapped[bool] = mapped_column(Boolean, default=False)
    # When printing on confirm was last switched on: orders confirmed before it are not
    # printed, even if their job runs after it (a queue of stale tickets at switch-on).
    auto_print_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    printer_host: Mapped[str | None] = mapped_column(String(253))
    printer_port: Mapped[int] = mapped_column(Integer, default=DEFAULT_PORT)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
