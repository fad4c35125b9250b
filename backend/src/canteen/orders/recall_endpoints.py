"""Recall of a mistaken kitchen move (kitchen staff and admins; issue 17, part 6)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from canteen.auth.deps import KitchenStaff
from canteen.core.deps import ContainerDep, Session
from canteen.core.responses import Envelope
from canteen.orders.models import OrderStatus, PaymentStatus
from canteen.orders.recall import recall

router = APIRouter(prefix="/admin/orders", tags=["kitchen"])


class RecallIn(BaseModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class RecallOut(BaseModel):
    id: uuid.UUID
    number: str
    status: OrderStatus = Field(description="The status the order is back in")
    payment_status: PaymentStatus
    recalled_from: OrderStatus = Field(description="Where the mistaken move had put it")


@router.post("/{order_id}/recall", response_model=Envelope[RecallOut])
async def recall_order(
    order_id: uuid.UUID, body: RecallIn, staff: KitchenStaff, db: Session, c: ContainerDep
) -> Envelope[RecallOut]:
    """Put back a ticket moved by mistake (ready, handed over, cancelled by staff) within
    5 minutes, to the status it came from; the event log records who and why."""
    done = await recall(
        db,
        order_id,
        actor=str(staff.role),
        actor_id=staff.id,
        reason=body.reason,
        now=c.clock.now(),
    )
    order = done.order
    return Envelope(
        data=RecallOut(
            id=order.id,
            number=order.number,
            status=OrderStatus(order.status),
            payment_status=PaymentStatus(order.payment_status),
            recalled_from=done.recalled_from,
        )
    )
