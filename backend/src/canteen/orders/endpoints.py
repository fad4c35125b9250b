from __future__ import annotations

import json
import re
import uuid
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.auth.deps import (
    CurrentUser,
    KitchenStaff,
    TokenUserId,
    bearer_scheme,
    get_token_user_id,
    require_roles,
    token_user_id,
)
from canteen.core.container import Container
from canteen.core.deps import ContainerDep, Session, container_of, get_container, get_session
from canteen.core.lean import Declined, lean_route
from canteen.core.pagination import Page
from canteen.core.responses import Envelope, ListEnvelope, ORJSONResponse, PageMeta
from canteen.core.strict import IsoDate
from canteen.core.textguard import reject_nul_characters
from canteen.orders import counter, presenter, service
from canteen.orders.models import OrderStatus
from canteen.orders.ordering import place_and_checkout
from canteen.orders.schemas import (
    AssignDelivery,
    CancelRequest,
    DeliveryStatusChange,
    FeedbackIn,
    Handover,
    KitchenOrderDetail,
    KitchenOrderOut,
    OrderCreate,
    OrderOut,
    StatusChange,
)
from canteen.orders.state import Actor
from canteen.users.models import Role, User

router = APIRouter(tags=["orders"])
admin_router = APIRouter(prefix="/admin/orders", tags=["kitchen"])
delivery_router = APIRouter(prefix="/delivery/orders", tags=["delivery"])

DeliveryOnly = Annotated[User, Depends(require_roles(Role.delivery))]


async def create_order(
    body: OrderCreate,
    customer_id: TokenUserId,
    db: Session,
    c: ContainerDep,
    request: Request,
    response: Response,
) -> Envelope[OrderOut]:
    answer, response.status_code = await _place(c, db, customer_id, body, request)
    return answer


async def _place(
    c: Container, db: AsyncSession, customer_id: uuid.UUID, body: OrderCreate, request: Request
) -> tuple[Envelope[OrderOut], int]:
    # Read by hand and documented by canteen.core.openapi.PARAMETERS: FastAPI's header
    # parameter cost 23 µs an order in annotation walks (issue 20); parse_key checks it.
    idempotency_key = request.headers.get("x-idempotency-key")
    placed = await place_and_checkout(c, db, customer_id, body, idempotency_key)
    order_out = await presenter.customer_order(
        c, db, placed.order, placed.facts, placed.cash_enabled
    )
    return Envelope(data=order_out), 201 if placed.created else 200


async def _lean_create_order(request: Request) -> Response:
    """`create_order` without FastAPI's dependency solving (canteen.core.lean): the same
    steps, in the order FastAPI takes them. The body is parsed first (a body that is not
    JSON is refused before anything else), then the route's dependencies in turn (the NUL
    check, the bearer token, the unit of work), then the body is validated. Declined: no
    JSON content type, a body that is not JSON or that the model refuses."""
    content_type = request.headers.get("content-type")
    if content_type is not None and not _JSON.match(content_type):
        raise Declined
    raw = await request.body()
    try:
        data = json.loads(raw)
    except ValueError:
        raise Declined from None
    await reject_nul_characters(request)
    c = container_of(request)
    customer_id = token_user_id(c, await bearer_scheme(request))
    try:
        body = OrderCreate.model_validate(data)
    except ValidationError:
        raise Declined from None
    async with _unit_of_work(request) as db:
        answer, status = await _place(c, db, customer_id, body, request)
    # The model's JSON straight from pydantic: the bytes FastAPI's ORJSONResponse sends
    # for the same answer (test_lean_placement), without the dict between.
    return Response(answer.model_dump_json(), status_code=status, media_type=_JSON_TYPE)


_JSON = re.compile(r"^application/(?:[^;\s]*\+)?json\s*(?:;.*)?$", re.IGNORECASE)
_JSON_TYPE = ORJSONResponse.media_type
_unit_of_work = asynccontextmanager(get_session)
PlaceOrderRoute = lean_route(
    _lean_create_order,
    covers={reject_nul_characters, get_token_user_id, bearer_scheme, get_session, get_container},
    enabled=lambda request: bool(request.app.state.settings.order_fast_path),
)
router.add_api_route(
    "/orders",
    create_order,
    methods=["POST"],
    response_model=Envelope[OrderOut],
    status_code=201,
    route_class_override=PlaceOrderRoute,
)


@router.get("/orders", response_model=ListEnvelope[OrderOut])
async def my_orders(
    user: CurrentUser, db: Session, page: Page, c: ContainerDep
) -> ListEnvelope[OrderOut]:
    rows, total = await service.list_own_orders(db, user, page)
    return ListEnvelope(
        data=await presenter.customer_orders(c, db, rows),
        meta=PageMeta(page=page.page, per_page=page.per_page, total=total),
    )


@router.get("/orders/{order_id}", response_model=Envelope[OrderOut])
async def my_order(
    order_id: uuid.UUID, user: CurrentUser, db: Session, c: ContainerDep
) -> Envelope[OrderOut]:
    order = await service.get_own_order(db, user, order_id)
    return Envelope(data=await presenter.customer_order(c, db, order))


@router.post("/orders/{order_id}/cancel", response_model=Envelope[OrderOut])
async def cancel_my_order(
    order_id: uuid.UUID,
    user: CurrentUser,
    db: Session,
    c: ContainerDep,
    body: CancelRequest | None = None,
) -> Envelope[OrderOut]:
    reason = body.reason if body else None
    order = await service.cancel_own(db, user, order_id, reason, c.clock.now())
    return Envelope(data=await presenter.customer_order(c, db, order))


@router.post("/orders/{order_id}/feedback", response_model=Envelope[OrderOut])
async def order_feedback(
    order_id: uuid.UUID, body: FeedbackIn, user: CurrentUser, db: Session, c: ContainerDep
) -> Envelope[OrderOut]:
    order = await service.feedback_own(db, user, order_id, body.rating, body.comment, c.clock.now())
    return Envelope(data=await presenter.customer_order(c, db, order))


# ---- kitchen and admin -------------------------------------------------------------


@admin_router.get("", response_model=ListEnvelope[KitchenOrderOut])
async def kitchen_orders(
    staff: KitchenStaff,
    db: Session,
    c: ContainerDep,
    page: Page,
    status: Annotated[list[OrderStatus] | None, Query()] = None,
    date_: Annotated[date | None, IsoDate, Query(alias="date")] = None,
    order_type: Literal["pickup", "delivery"] | None = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
) -> ListEnvelope[KitchenOrderOut]:
    rows, total = await service.list_orders(
        db,
        page,
        statuses=[s.value for s in status] if status else None,
        business_date=date_,
        order_type=order_type,
        q=q,
    )
    now = c.clock.now()
    actor = service.actor_for(staff)
    return ListEnvelope(
        data=[presenter.kitchen_order_out(o, u, actor, now) for o, u in rows],
        meta=PageMeta(page=page.page, per_page=page.per_page, total=total),
    )


@admin_router.get(
    "/by-pickup-code/{code}",
    response_model=ListEnvelope[KitchenOrderOut],
    summary="Ready pickup orders with this pickup code (the counter)",
)
async def counter_lookup(
    code: Annotated[str, Path(pattern=r"^\d{4}$")],
    staff: KitchenStaff,
    db: Session,
    c: ContainerDep,
) -> ListEnvelope[KitchenOrderOut]:
    rows = await counter.ready_by_pickup_code(
        db, code, now=c.clock.now(), tz=ZoneInfo(c.settings.timezone)
    )
    now, actor = c.clock.now(), service.actor_for(staff)
    return ListEnvelope(
        data=[presenter.kitchen_order_out(o, u, actor, now) for o, u in rows],
        meta=PageMeta(page=1, per_page=len(rows), total=len(rows)),
    )


@admin_router.get("/{order_id}", response_model=Envelope[KitchenOrderDetail])
async def kitchen_order(
    order_id: uuid.UUID, staff: KitchenStaff, db: Session, c: ContainerDep
) -> Envelope[KitchenOrderDetail]:
    return Envelope(data=await _detail(db, order_id, staff, c.clock.now()))


@admin_router.patch("/{order_id}/status", response_model=Envelope[KitchenOrderDetail])
async def change_status(
    order_id: uuid.UUID, body: StatusChange, staff: KitchenStaff, db: Session, c: ContainerDep
) -> Envelope[KitchenOrderDetail]:
    order = await service.lock_order(db, order_id)
    now = c.clock.now()
    await service.transition(
        db,
        order,
        OrderStatus(body.status),
        actor=service.actor_for(staff),
        actor_id=staff.id,
        now=now,
        reason=body.reason,
        pickup_code=body.pickup_code,
    )
    return Envelope(data=await _detail(db, order_id, staff, now))


@admin_router.post("/{order_id}/handover", response_model=Envelope[KitchenOrderDetail])
async def handover(
    order_id: uuid.UUID, body: Handover, staff: KitchenStaff, db: Session, c: ContainerDep
) -> Envelope[KitchenOrderDetail]:
    order = await service.lock_order(db, order_id)
    now = c.clock.now()
    await service.transition(
        db,
        order,
        OrderStatus.completed,
        actor=service.actor_for(staff),
        actor_id=staff.id,
        now=now,
        pickup_code=body.pickup_code,
    )
    return Envelope(data=await _detail(db, order_id, staff, now))


@admin_router.post("/{order_id}/assign-delivery", response_model=Envelope[KitchenOrderDetail])
async def assign_delivery(
    order_id: uuid.UUID, body: AssignDelivery, staff: KitchenStaff, db: Session, c: ContainerDep
) -> Envelope[KitchenOrderDetail]:
    order = await service.lock_order(db, order_id)
    now = c.clock.now()
    await service.assign_delivery(db, order, body.staff_id, actor_id=staff.id, now=now)
    return Envelope(data=await _detail(db, order_id, staff, now))


async def _detail(
    db: AsyncSession, order_id: uuid.UUID, staff: User, now: datetime
) -> KitchenOrderDetail:
    order, customer, events = await service.order_with_history(db, order_id)
    return presenter.kitchen_order_detail(order, customer, service.actor_for(staff), now, events)


# ---- delivery staff ----------------------------------------------------------------


@delivery_router.get("", response_model=ListEnvelope[KitchenOrderOut])
async def my_deliveries(
    staff: DeliveryOnly,
    db: Session,
    c: ContainerDep,
    page: Page,
    active: bool = True,
) -> ListEnvelope[KitchenOrderOut]:
    statuses = (
        [s.value for s in OrderStatus if s not in (OrderStatus.completed, OrderStatus.cancelled)]
        if active
        else None
    )
    rows, total = await service.list_orders(db, page, statuses=statuses, delivery_staff_id=staff.id)
    now = c.clock.now()
    return ListEnvelope(
        data=[presenter.kitchen_order_out(o, u, Actor.delivery, now) for o, u in rows],
        meta=PageMeta(page=page.page, per_page=page.per_page, total=total),
    )


@delivery_router.patch("/{order_id}/status", response_model=Envelope[KitchenOrderOut])
async def delivery_status(
    order_id: uuid.UUID,
    body: DeliveryStatusChange,
    staff: DeliveryOnly,
    db: Session,
    c: ContainerDep,
) -> Envelope[KitchenOrderOut]:
    now = c.clock.now()
    order, customer = await service.delivery_transition(
        db, staff, order_id, OrderStatus(body.status), now, body.pickup_code
    )
    return Envelope(data=presenter.kitchen_order_out(order, customer, Actor.delivery, now))
