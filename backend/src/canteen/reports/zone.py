"""Local time in SQL: day and hour keys in the canteen's zone, on PostgreSQL and SQLite.

PostgreSQL converts each timestamp with the zone's rules (`timezone(zone, ts)`). SQLite has
no zone database, so the embedded server shifts by the zone's offset at the start of the
range: exact for zones without daylight saving (Asia/Kolkata), and documented as such.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Float, Integer, String, cast, func
from sqlalchemy.sql.elements import ColumnElement


class LocalTime:
    def __init__(self, tz: ZoneInfo, dialect: str, at: datetime) -> None:
        self.tz = tz
        self.postgres = dialect == "postgresql"
        offset = at.astimezone(tz).utcoffset() or timedelta()
        self._modifier = f"{int(offset.total_seconds()):+d} seconds"

    def day(self, col: Any) -> ColumnElement[str]:
        if self.postgres:
            # A date cast is cheaper than to_char; the key is read back as its ISO string.
            return cast(cast(func.timezone(self.tz.key, col), Date), String)
        return func.strftime("%Y-%m-%d", col, self._modifier)

    def hour(self, col: Any) -> ColumnElement[int]:
        if self.postgres:
            return cast(func.extract("hour", func.timezone(self.tz.key, col)), Integer)
        return cast(func.strftime("%H", col, self._modifier), Integer)

    def seconds_between(self, start: Any, end: Any) -> ColumnElement[float]:
        if self.postgres:
            return cast(func.extract("epoch", end - start), Float)
        return (func.julianday(end) - func.julianday(start)) * 86400.0


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `tz`."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    """A timestamp as the canteen reads it: ISO 8601 in its zone, offset included."""
    if value is None:
        return None
    return value.astimezone(tz).isoformat(timespec="seconds")
