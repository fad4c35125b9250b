"""The moments most orders have not reached are indexed only once they happen (issue 20,
migration 0017): a placement writes no entry into `ready_at`'s, `cancelled_at`'s, ...
indexes. Each reader of those columns compares them with a value, which implies `IS NOT
NULL`, so the planner still takes the partial index; these plans would fall back to a
scan of every order if a predicate stopped implying it. `ix_orders_customer_id` went: the
(customer, idempotency key) unique index serves a look-up by customer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.orders.models import INDEXED_WHEN_SET, Order

START = datetime(2026, 12, 1, tzinfo=UTC)
END = START + timedelta(days=1)
STAFF = uuid.uuid4()

READS = {
    # reports: a moment within the report's days (reports.queries._between, ledger)
    "ix_orders_ready_at": select(func.count()).where(Order.ready_at >= START, Order.ready_at < END),
    "ix_orders_completed_at": select(func.count()).where(
        Order.completed_at >= START, Order.completed_at < END
    ),
    "ix_orders_cancelled_at": select(func.count()).where(Order.cancelled_at >= START),
    "ix_orders_feedback_at": select(Order.id)
    .where(Order.feedback_at >= START, Order.feedback_at < END)
    .order_by(Order.feedback_at, Order.id),
    "ix_orders_cash_collected_at": select(func.sum(Order.cash_collected_amount)).where(
        Order.cash_collected_at >= START, Order.cash_collected_at < END
    ),
    # the delivery staff's own orders
    "ix_orders_delivery_staff_id": select(Order.id).where(Order.delivery_staff_id == STAFF),
    # a student's orders
    "uq_orders_customer_idempotency": select(Order.id)
    .where(Order.customer_id == STAFF)
    .order_by(Order.created_at.desc()),
}


UNIQUE = {"uq_orders_customer_idempotency"}


async def _plan(session: AsyncSession, statement: Any) -> str:
    bind = session.get_bind()
    sql = str(statement.compile(bind, compile_kwargs={"literal_binds": True}))
    if bind.dialect.name == "postgresql":
        # An empty table is read whole at any cost model; forbid that to see whether the
        # index can answer at all.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = await session.execute(text(f"EXPLAIN {sql}"))
        return "\n".join(r[0] for r in rows)
    rows = await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
    return "\n".join(str(r[-1]) for r in rows)


@pytest.mark.parametrize("index", sorted(READS))
async def test_each_reader_of_a_partial_index_still_uses_it(container, index):
    async with container.sessionmaker() as session, session.begin():
        plan = await _plan(session, READS[index])
    # SQLite names a unique constraint's index sqlite_autoindex_orders_N.
    found = index in plan or (index in UNIQUE and "USING INDEX sqlite_autoindex_orders" in plan)
    assert found, plan


async def test_the_moments_indexes_are_partial_and_the_customer_index_is_gone(container):
    async with container.sessionmaker() as session:
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":
            defs = await session.scalars(
                text("SELECT indexdef FROM pg_indexes WHERE tablename = 'orders'")
            )
        else:
            defs = await session.scalars(
                text("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders'")
            )
        found = [d for d in defs if d]
    partial = [d for d in found if "IS NOT NULL" in d]
    for column in INDEXED_WHEN_SET:
        assert any(
            f"ix_orders_{column} " in d and column in d.split("WHERE")[-1] for d in partial
        ), (
            column,
            found,
        )
    assert not any("ix_orders_customer_id" in d for d in found)
