"""CSV exports, streamed: the lists are read through a server-side cursor in batches
(`yield_per`) and written row by row, so a year of rows is never held in memory. Dates are
in the canteen's zone; amounts are rupees with two decimals.

Validation runs before the first byte (the caller builds the window), so a bad range is a
JSON error, not a broken download.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import date
from typing import Any

from fastapi.responses import StreamingResponse
from sqlalchemy import Select

from canteen.core.container import Container
from canteen.reports import ledger, service
from canteen.reports.schemas import DishGroup, Figures, SalesGroup

BATCH = 1000

FIGURE_COLUMNS = [
    "orders",
    "revenue_upi",
    "revenue_cash",
    "refunded",
    "net_revenue",
    "ready",
    "avg_prep_seconds",
    "p90_prep_seconds",
    "late",
    "cancelled",
    "uncollected",
    "ratings",
    "avg_rating",
]
MONEY = {"revenue_upi", "revenue_cash", "refunded", "net_revenue"}


def rupees(paise: int) -> str:
    """Paise as rupees with two decimals, without going through floats."""
    sign = "-" if paise < 0 else ""
    whole, part = divmod(abs(paise), 100)
    return f"{sign}{whole}.{part:02d}"


# A spreadsheet runs a cell that starts with one of these as a formula ("CSV injection"):
# a student's feedback comment "=HYPERLINK(...)" must reach the manager as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def cell(value: Any) -> Any:
    """One CSV cell: None as empty, text that a spreadsheet would run as a formula behind
    a leading apostrophe (OWASP's advice); numbers, negative amounts included, unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _line(values: Iterable[Any]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([cell(v) for v in values])
    return out.getvalue().encode()


def _figures(f: Figures) -> list[Any]:
    values = f.model_dump()
    return [rupees(values[k]) if k in MONEY else values[k] for k in FIGURE_COLUMNS]


def sales(c: Container, start: date, end: date, group: SalesGroup) -> AsyncIterator[bytes]:
    service.check_range(start, end)
    return _sales(c, start, end, group)


async def _sales(c: Container, start: date, end: date, group: SalesGroup) -> AsyncIterator[bytes]:
    yield _line([group.value, "label", *FIGURE_COLUMNS])
    async with c.sessionmaker() as session:
        report = await service.sales_report(c, session, start, end, group)
        await session.commit()  # keeps the closed days the report filled in (the rollup)
    for row in report.rows:
        yield _line([row.key, row.label, *_figures(row.figures)])
    yield _line(["total", "Total", *_figures(report.totals)])


def dishes(c: Container, start: date, end: date, group: DishGroup) -> AsyncIterator[bytes]:
    service.check_range(start, end)
    return _dishes(c, start, end, group)


async def _dishes(c: Container, start: date, end: date, group: DishGroup) -> AsyncIterator[bytes]:
    yield _line([group.value, "label", "orders", "quantity", "sales", "cancelled_quantity"])
    async with c.sessionmaker() as session:
        report = await service.dish_report(c, session, start, end, group)
    for r in report.rows:
        yield _line([r.key, r.label, r.orders, r.quantity, rupees(r.sales), r.cancelled_quantity])


def cash_drawer(c: Container, start: date, end: date) -> AsyncIterator[bytes]:
    service.check_range(start, end)
    return _cash_drawer(c, start, end)


async def _cash_drawer(c: Container, start: date, end: date) -> AsyncIterator[bytes]:
    yield _line(
        [
            *("day", "staff_id", "staff", "handed_over", "collected"),
            *("day_due", "day_collected", "day_difference"),
        ]
    )
    async with c.sessionmaker() as session:
        days = await service.cash_drawer(c, session, start, end)
    for d in days:
        tail = [rupees(d.due), rupees(d.collected), rupees(d.difference)]
        if not d.staff:  # due but nobody handed anything over
            yield _line([d.day, "", "", 0, rupees(0), *tail])
        for s in d.staff:
            yield _line([d.day, s.staff_id, s.name, s.handed_over, rupees(s.collected), *tail])


def refunds(c: Container, start: date, end: date) -> AsyncIterator[bytes]:
    stmt = ledger.refunds_statement(service.window(c, start, end))
    return _refunds(c, stmt)


async def _refunds(c: Container, stmt: Select[Any]) -> AsyncIterator[bytes]:
    tz = service.zone_of(c)

    def line(row: Any) -> list[Any]:
        r = ledger.refund_row(row, tz)
        money = rupees(r.amount)
        return [r.order_id, r.order_number, r.at, money, r.reason, r.status, r.gateway_refund_id]

    yield _line(["order_id", "order_number", "at", "amount", "reason", "status", "gateway_id"])
    async for chunk in _batches(c, stmt, line):
        yield chunk


def feedback(c: Container, start: date, end: date, rating: int | None) -> AsyncIterator[bytes]:
    stmt = ledger.feedback_statement(service.window(c, start, end), rating)
    return _feedback(c, stmt)


async def _feedback(c: Container, stmt: Select[Any]) -> AsyncIterator[bytes]:
    tz = service.zone_of(c)

    def line(row: Any) -> list[Any]:
        r = ledger.feedback_row(row, tz)
        return [r.order_id, r.order_number, r.at, r.rating, r.comment, r.items]

    yield _line(["order_id", "order_number", "at", "rating", "comment", "items"])
    async for chunk in _batches(c, stmt, line):
        yield chunk


async def _batches(
    c: Container, stmt: Select[Any], line: Callable[[Any], list[Any]]
) -> AsyncIterator[bytes]:
    """One chunk per batch the cursor fetches: a send per row would cost more than the row."""
    async with c.sessionmaker() as session:
        result = await session.stream(stmt.execution_options(yield_per=BATCH))
        async for rows in result.partitions():
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            for row in rows:
                writer.writerow([cell(v) for v in line(row)])
            yield out.getvalue().encode()


def response(name: str, start: date, end: date, body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-{start}-to-{end}.csv"'},
    )


OPENAPI: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "CSV, streamed: dates in the canteen's zone, amounts in rupees",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
