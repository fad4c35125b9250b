"""The daily rollup: the additive figures of each closed local day, per group (issue 18).

A closed day never changes again (docs/reports.md, "Daily rollup"), so its sums are
computed once and a year's report reads 365 rows instead of a million orders.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from canteen.core.db import Base, UTCDateTime


class ReportDay(Base):
    """A day whose rollup rows are written (a day with no activity has none of them)."""

    __tablename__ = "report_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportDayRollup(Base):
    """One day x grouping x group key: `grp` is `all` (the whole day), `time_slot`,
    `hour`, `payment_method` or `order_type`. Money in paise; `prep_seconds` is the sum
    of confirmed -> ready times (the mean is prep_seconds / ready), `p90_prep` the cell's
    own exact percentile, `prep_histogram` its confirmed -> ready times counted per
    30-second bucket (JSON `{"bucket": count}`; canteen.reports.histogram)."""

    __tablename__ = "report_day_rollup"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    grp: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    revenue_upi: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_cash: Mapped[int] = mapped_column(BigInteger, default=0)
    ready: Mapped[int] = mapped_column(Integer, default=0)
    prep_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    p90_prep: Mapped[float | None] = mapped_column(Float)
    late: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    ratings: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    prep_histogram: Mapped[str | None] = mapped_column(Text)


class ReportDayLine(Base):
    """What the dish and category reports and the cash drawer's due add up (canteen.reports.lines).

    A figure is counted on its `origin` day (an order's placement, a cash order's ready)
    and a cancellation on the `day` it happened: a row with origin P and day C
    holds what was placed (or made ready) on P when P == C, and what of P was cancelled on
    C. A report of origins [A, B] sums its rows whatever their day, so a cancellation days
    later lands on the day it happened and never rewrites a closed day's row.

    `grp`: `dish` (key: the dish's id, label: its name then, category: its category's name
    then), `category` (key: that name), `cash_due` (key '': the cash orders made ready)."""

    __tablename__ = "report_day_lines"

    origin: Mapped[date] = mapped_column(Date, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    grp: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(200), default="")
    orders: Mapped[int] = mapped_column(Integer, default=0)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    cancelled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_amount: Mapped[int] = mapped_column(BigInteger, default=0)
