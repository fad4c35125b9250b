"""An order change's columns written by one direct UPDATE (`core.direct_flush`, issue 20):
the rows must be those the ORM's flush writes, the objects left as a flush leaves them,
and whatever it cannot write faithfully must still be written, by the ORM. A change's
event (`then_insert`) joins a lone UPDATE's statement on PostgreSQL, and only if the
UPDATE found its row."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from orders_helpers import new_payment, order_with_payment, placed_order, seed_menu
from sqlalchemy import delete, func, inspect, select
from sqlalchemy.orm.exc import StaleDataError
from statements_seen import StatementsSeen

from canteen.core.db import utcnow
from canteen.core.direct_flush import flush_changes
from canteen.events.models import Event
from canteen.events.service import _INSERT_EVENT, event_values
from canteen.events.types import EventType
from canteen.orders.models import Order
from canteen.orders.service import lock_order
from canteen.payments.capture import locked
from canteen.payments.models import Payment, PaymentState
from canteen_testkit.stack import BACKEND
from conftest import login_customer

# Every column a capture leaves alike on two payments (ids and gateway ids differ).
_COMPARED = ("status", "gateway", "amount", "currency", "attempts", "error_code")


def _capture(payment: Payment, gateway_payment_id: str) -> None:
    """What `payments.capture` changes (it does not set `updated_at`: `onupdate` does)."""
    payment.status = PaymentState.captured
    payment.gateway_payment_id = gateway_payment_id
    payment.captured_at = utcnow()
    payment.error_code = payment.error_description = None


async def _payment_row(container: Any, payment_id: uuid.UUID) -> Payment:
    async with container.sessionmaker() as s:
        row = await s.get(Payment, payment_id)
        assert row is not None
        return row


async def test_a_capture_is_written_as_the_orms_flush_writes_it(client, container):
    menu = await seed_menu(container)
    customer = await login_customer(client, container)
    by_orm = await order_with_payment(client, container, customer, menu)
    direct = await order_with_payment(client, container, customer, menu)
    before = {p: (await _payment_row(container, p[1])).updated_at for p in (by_orm, direct)}
    async with container.sessionmaker() as s, s.begin():
        _order, payment = await locked(s, by_orm[0])
        _capture(payment, "pay_" + uuid.uuid4().hex[:14])
        await s.flush()
    async with container.sessionmaker() as s, s.begin():
        _order, payment = await locked(s, direct[0])
        _capture(payment, "pay_" + uuid.uuid4().hex[:14])
        await flush_changes(s)
        state = inspect(payment)
        # Left as a flush leaves it: nothing pending, nothing expired, `onupdate` applied.
        assert not state.modified and not s.dirty and not state.expired_attributes
        assert payment.updated_at > before[direct]
        kept = payment.updated_at
    orm_row = await _payment_row(container, by_orm[1])
    direct_row = await _payment_row(container, direct[1])
    for column in _COMPARED:
        assert getattr(direct_row, column) == getattr(orm_row, column), column
    assert direct_row.captured_at is not None and direct_row.gateway_payment_id
    assert orm_row.updated_at > before[by_orm] and direct_row.updated_at == kept


async def test_a_kitchen_change_is_one_update_of_the_columns_it_changed(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1))
    now = utcnow()
    async with container.sessionmaker() as s, s.begin():
        order = await lock_order(s, order_id)
        with StatementsSeen(await s.connection()) as sql:
            order.status = "preparing"
            order.preparing_at = order.updated_at = now
            await flush_changes(s)
            await s.flush()  # the ORM finds nothing left to write
        assert len(sql.seen) == 1 and sql.seen[0].startswith("UPDATE orders SET")
        written = sql.seen[0].split(" SET ")[1].split(" WHERE ")[0]
        assert sorted(re.findall(r"(\w+)\s*=", written)) == ["preparing_at", "status", "updated_at"]
    async with container.sessionmaker() as s:
        row = await s.get(Order, order_id)
        assert row is not None and row.status == "preparing" and row.preparing_at == now


async def test_a_value_set_to_what_it_was_writes_nothing(client, container):
    _order_id, payment_id = await order_with_payment(client, container)
    before = (await _payment_row(container, payment_id)).updated_at
    async with container.sessionmaker() as s, s.begin():
        payment = await s.get(Payment, payment_id)
        assert payment is not None
        payment.status = str(payment.status)
        with StatementsSeen(await s.connection()) as sql:
            await flush_changes(s)
        assert sql.seen == [] and not inspect(payment).modified
    assert (await _payment_row(container, payment_id)).updated_at == before


@pytest.mark.parametrize("flush", ["orm", "direct"])
async def test_a_row_that_is_gone_is_stale_either_way(client, container, flush):
    _order_id, payment_id = await order_with_payment(client, container)
    async with container.sessionmaker() as s:
        payment = await s.get(Payment, payment_id)
        assert payment is not None
        await s.execute(
            delete(Payment)
            .where(Payment.id == payment_id)
            .execution_options(synchronize_session=False)
        )
        payment.error_code = "GONE"
        with pytest.raises(StaleDataError, match="expected to update 1 row"):
            await (s.flush() if flush == "orm" else flush_changes(s))
        await s.rollback()
    assert await _payment_row(container, payment_id)  # the delete rolled back with it


async def test_a_new_object_beside_a_change_is_written_by_the_orm(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1))
    payment = new_payment(order_id)
    async with container.sessionmaker() as s, s.begin():
        order = await lock_order(s, order_id)
        order.instructions = "no onion"
        s.add(payment)
        await flush_changes(s)
        assert not s.new and not s.dirty
    async with container.sessionmaker() as s:
        assert (await s.get(Order, order_id)).instructions == "no onion"
        assert await s.scalar(select(Payment.id).where(Payment.order_id == order_id)) == (
            payment.id
        )


async def test_a_changed_relationship_is_written_by_the_orm(client, container):
    menu = await seed_menu(container)
    customer = await login_customer(client, container)
    first = await placed_order(client, container, (menu.dosa, 1), (menu.chai, 1), customer=customer)
    second = await placed_order(client, container, (menu.dosa, 1), customer=customer)
    async with container.sessionmaker() as s, s.begin():
        other = await lock_order(s, second)
        order = await lock_order(s, first)
        line = order.items[1]
        line.order = other  # a relationship, not a column: the ORM writes the key
        order.instructions = "just the dosa"
        await flush_changes(s)
        assert not s.dirty and line.order_id == second
    async with container.sessionmaker() as s:
        rows = {
            o.id: o
            for o in (await s.scalars(select(Order).where(Order.id.in_([first, second])))).all()
        }
        assert rows[first].instructions == "just the dosa"
        assert [li.name for li in rows[first].items] == ["Masala Dosa"]
        assert sorted(li.name for li in rows[second].items) == ["Cutting Chai", "Masala Dosa"]


async def test_a_changed_primary_key_is_written_by_the_orm(client, container):
    _order_id, payment_id = await order_with_payment(client, container)
    new_id = uuid.uuid4()
    async with container.sessionmaker() as s, s.begin():
        payment = await s.get(Payment, payment_id)
        assert payment is not None
        payment.id = new_id  # the identity moves: only the ORM's flush knows how
        await flush_changes(s)
        assert await s.get(Payment, new_id) is payment
    async with container.sessionmaker() as s:
        assert await s.get(Payment, payment_id) is None
        assert (await s.get(Payment, new_id)) is not None


# ---- a change and the row that records it (`then_insert`) --------------------------------


def _recorded(order_id: uuid.UUID, marker: str) -> dict[str, Any]:
    return event_values(
        EventType.order_status_changed,
        data={"marker": marker},
        order_id=order_id,
        order_number=None,
        status="preparing",
        payment_status="cash_due",
        actor_id=None,
    )


async def _events_marked(container: Any, marker: str) -> list[Event]:
    async with container.sessionmaker() as s:
        rows = await s.scalars(select(Event).where(Event.data["marker"].as_string() == marker))
        return list(rows)


async def test_a_change_and_its_event_are_one_statement_on_postgresql(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1))
    async with container.sessionmaker() as s, s.begin():
        order = await lock_order(s, order_id)
        with StatementsSeen(await s.connection()) as sql:
            order.status = "preparing"
            order.preparing_at = utcnow()
            await flush_changes(s, then_insert=(_INSERT_EVENT, _recorded(order_id, "one")))
            await s.flush()  # the ORM finds nothing left to write
        assert not s.dirty and not inspect(order).modified
    starts = [statement.split()[0] for statement in sql.seen]
    assert starts == (["WITH"] if BACKEND == "postgres" else ["UPDATE", "INSERT"])
    async with container.sessionmaker() as s:
        row = await s.get(Order, order_id)
        assert row is not None and row.status == "preparing" and row.preparing_at is not None
    [event] = await _events_marked(container, "one")
    assert (event.order_id, event.status, event.payment_status) == (
        order_id,
        "preparing",
        "cash_due",
    )


async def test_a_change_whose_row_is_gone_records_nothing(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1))
    async with container.sessionmaker() as s:
        order = await s.get(Order, order_id)
        assert order is not None
        await s.execute(
            delete(Order).where(Order.id == order_id).execution_options(synchronize_session=False)
        )
        order.status = "preparing"
        with pytest.raises(StaleDataError, match="expected to update 1 row"):
            await flush_changes(s, then_insert=(_INSERT_EVENT, _recorded(order_id, "gone")))
        # Not even within the transaction: the event is written only from the row's UPDATE.
        marked = Event.data["marker"].as_string() == "gone"
        assert await s.scalar(select(func.count()).select_from(Event).where(marked)) == 0
        await s.rollback()
    assert await _events_marked(container, "gone") == []
    async with container.sessionmaker() as s:
        assert await s.get(Order, order_id) is not None  # the delete rolled back with it


async def test_two_changed_rows_are_flushed_before_the_event_is_written(client, container):
    order_id, payment_id = await order_with_payment(client, container)
    async with container.sessionmaker() as s, s.begin():
        order, payment = await locked(s, order_id)
        with StatementsSeen(await s.connection()) as sql:
            order.instructions = "no onions"
            payment.error_code = "DECLINED"
            await flush_changes(s, then_insert=(_INSERT_EVENT, _recorded(order_id, "two")))
        assert not s.dirty
    assert [statement.split()[0] for statement in sql.seen] == ["UPDATE", "UPDATE", "INSERT"]
    assert len(await _events_marked(container, "two")) == 1
    assert (await _payment_row(container, payment_id)).error_code == "DECLINED"


async def test_with_nothing_changed_the_event_alone_is_written(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1))
    async with container.sessionmaker() as s, s.begin():
        await lock_order(s, order_id)
        with StatementsSeen(await s.connection()) as sql:
            await flush_changes(s, then_insert=(_INSERT_EVENT, _recorded(order_id, "alone")))
    assert [statement.split()[0] for statement in sql.seen] == ["INSERT"]
    assert len(await _events_marked(container, "alone")) == 1
