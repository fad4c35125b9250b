"""Reports for admins: JSON under /admin/reports, and the same data as streamed CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from canteen.auth.deps import Admin
from canteen.core.deps import ContainerDep, Session
from canteen.core.responses import Envelope, ListEnvelope, PageMeta
from canteen.reports import csv, service
from canteen.reports.schemas import (
    CashDay,
    Dashboard,
    DishGroup,
    DishReport,
    FeedbackRow,
    RefundRow,
    SalesGroup,
    SalesReport,
)

router = APIRouter(prefix="/admin/reports", tags=["reports"])

From = Annotated[date, Query(alias="from", description="First local day")]
To = Annotated[date, Query(alias="to", description="Last local day (included)")]
Page = Annotated[int, Query(ge=1, le=100_000)]
PerPage = Annotated[int, Query(ge=1, le=500)]
Rating = Annotated[int | None, Query(ge=1, le=5)]


@router.get("/dashboard", response_model=Envelope[Dashboard])
async def dashboard(_: Admin, db: Session, c: ContainerDep) -> Envelope[Dashboard]:
    """Today so far against the same weekday last week up to the same time."""
    return Envelope(data=await service.dashboard(c, db))


@router.get("/sales", response_model=Envelope[SalesReport])
async def sales(
    _: Admin, db: Session, c: ContainerDep, start: From, end: To, group: SalesGroup = SalesGroup.day
) -> Envelope[SalesReport]:
    return Envelope(data=await service.sales_report(c, db, start, end, group))


@router.get("/sales.csv", response_class=StreamingResponse, responses=csv.OPENAPI)
async def sales_csv(
    _: Admin, c: ContainerDep, start: From, end: To, group: SalesGroup = SalesGroup.day
) -> StreamingResponse:
    return csv.response(f"sales-by-{group}", start, end, csv.sales(c, start, end, group))


@router.get("/dishes", response_model=Envelope[DishReport])
async def dishes(
    _: Admin, db: Session, c: ContainerDep, start: From, end: To, group: DishGroup = DishGroup.dish
) -> Envelope[DishReport]:
    return Envelope(data=await service.dish_report(c, db, start, end, group))


@router.get("/dishes.csv", response_class=StreamingResponse, responses=csv.OPENAPI)
async def dishes_csv(
    _: Admin, c: ContainerDep, start: From, end: To, group: DishGroup = DishGroup.dish
) -> StreamingResponse:
    return csv.response(f"sales-by-{group}", start, end, csv.dishes(c, start, end, group))


@router.get("/cash-drawer", response_model=Envelope[list[CashDay]])
async def cash_drawer(
    _: Admin, db: Session, c: ContainerDep, start: From, end: To
) -> Envelope[list[CashDay]]:
    """Per day: cash due, cash collected, and by whom (the orders' cash columns)."""
    return Envelope(data=await service.cash_drawer(c, db, start, end))


@router.get("/cash-drawer.csv", response_class=StreamingResponse, responses=csv.OPENAPI)
async def cash_drawer_csv(_: Admin, c: ContainerDep, start: From, end: To) -> StreamingResponse:
    return csv.response("cash-drawer", start, end, csv.cash_drawer(c, start, end))


@router.get("/refunds", response_model=ListEnvelope[RefundRow])
async def refunds(
    _: Admin,
    db: Session,
    c: ContainerDep,
    start: From,
    end: To,
    page: Page = 1,
    per_page: PerPage = 100,
) -> ListEnvelope[RefundRow]:
    rows, total = await service.refunds(c, db, start, end, (page - 1) * per_page, per_page)
    return ListEnvelope(data=rows, meta=PageMeta(page=page, per_page=per_page, total=total))


@router.get("/refunds.csv", response_class=StreamingResponse, responses=csv.OPENAPI)
async def refunds_csv(_: Admin, c: ContainerDep, start: From, end: To) -> StreamingResponse:
    return csv.response("refunds", start, end, csv.refunds(c, start, end))


@router.get("/feedback", response_model=ListEnvelope[FeedbackRow])
async def feedback(
    _: Admin,
    db: Session,
    c: ContainerDep,
    start: From,
    end: To,
    rating: Rating = None,
    page: Page = 1,
    per_page: PerPage = 100,
) -> ListEnvelope[FeedbackRow]:
    offset = (page - 1) * per_page
    rows, total = await service.feedback(c, db, start, end, rating, offset, per_page)
    return ListEnvelope(data=rows, meta=PageMeta(page=page, per_page=per_page, total=total))


@router.get("/feedback.csv", response_class=StreamingResponse, responses=csv.OPENAPI)
async def feedback_csv(
    _: Admin, c: ContainerDep, start: From, end: To, rating: Rating = None
) -> StreamingResponse:
    return csv.response("feedback", start, end, csv.feedback(c, start, end, rating))
