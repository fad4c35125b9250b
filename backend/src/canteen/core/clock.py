"""An injectable clock: expiry rules are tested by moving time, not by sleeping.

Every "now" of a process (the clocks here and `core.db.utcnow`, which stamps rows) is real
time plus the process's shift: none in production, and in a test run one shift for all of
its processes (`Settings.clock_offset_seconds`), so the run sees the same hour of the
canteen's day whenever it runs, and rows stamped by `utcnow` agree with the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_shift = timedelta()


def shift_process_clock(seconds: float) -> None:
    """Set this process's shift (`bootstrap.build_container`, from the settings)."""
    global _shift
    _shift = timedelta(seconds=seconds)


def process_now() -> datetime:
    return datetime.now(UTC) + _shift


def iso_z(value: datetime) -> str:
    """A UTC instant as the API writes it: `2026-12-07T12:30:00Z`, `.ffffff` when the
    microseconds are not zero."""
    return value.isoformat().replace("+00:00", "Z")


class Clock:
    def now(self) -> datetime:
        return process_now()

    def timestamp(self) -> float:
        return self.now().timestamp()


class ManualClock(Clock):
    """The process's time plus an offset that tests advance."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return process_now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def set_to(self, moment: datetime) -> None:
        """Put the clock at `moment`; it runs on from there."""
        self.offset = moment - process_now()
