"""The daily rollup: the additive figures of each closed local day, per group (issue 18).

A closed day never changes again (docs/reports.md, "Daily rollup"), so its sums are
computed once and a year's report reads 365 rows instead of a million orders.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, Integer, String
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
    own exact percentile."""

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
