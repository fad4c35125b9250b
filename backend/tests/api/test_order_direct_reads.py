"""The reads of an order change and of a customer's order (issue 20): the order (locked
or not) and its lines, the customer and the history the kitchen's answer shows, and the
settings row, read by the direct path (`orders.order_rows`, `menu.config`) where the ORM's
query cost more than the rows. Whichever path reads them, the session must end up with
what a query would have given it: the order as it is now, locked when asked, persistent,
a change flushed as one UPDATE; and someone else's order is still not found."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from asyncio.subprocess import PIPE
from typing import Any

import pytest
import websockets
from live import serve
from orders_helpers import order_with_payment, placed_order, seed_menu
from sqlalchemy import inspect, select, update
from statements_seen import ServerStatements, StatementsSeen

from canteen.events.models import Event
from canteen.events.types import EventType
from canteen.menu.config import get_config
from canteen.menu.models import CanteenConfig
from canteen.orders import order_rows
from canteen.orders.errors import OrderNotFound
from canteen.orders.events import record_order_event
from canteen.orders.models import Order, OrderItem
from canteen.orders.ports import payments
from canteen.orders.service import get_own_order, lock_order, lock_own_order, order_with_history
from canteen.payments.capture import locked
from canteen.payments.errors import PaymentNotStarted
from canteen.payments.models import Payment
from canteen.users.models import User
from conftest import API, BACKEND, bearer, login_customer, login_staff


async def _kitchen_starts(client: Any, container: Any, order_id: uuid.UUID, phone: str) -> Any:
    """A kitchen account signs in and starts the order: its answer (200 checked)."""
    kitchen = await login_staff(client, container, "kitchen", phone)
    r = await client.patch(
        f"{API}/admin/orders/{order_id}/status",
        json={"status": "preparing"},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    return r


async def test_an_order_locked_fresh_is_loaded_as_a_query_loads_it(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 2), (menu.chai, 1))
    async with container.sessionmaker() as s:
        queried = await s.get(Order, order_id)
        assert queried is not None
        columns = [c.key for c in inspect(Order).column_attrs]
        expected = [getattr(queried, c) for c in columns]
        expected_lines = [(li.id, li.position, li.name, li.quantity) for li in queried.items]
    async with container.sessionmaker() as s, s.begin():
        order = await lock_order(s, order_id)
        state = inspect(order)
        assert state.persistent and not state.modified and not state.expired_attributes
        assert [getattr(order, c) for c in columns] == expected
        # The lines are there, in order, each knowing its order: no further statement.
        with StatementsSeen(await s.connection()) as statements:
            assert [(li.id, li.position, li.name, li.quantity) for li in order.items] == (
                expected_lines
            )
            assert all(li.order is order for li in order.items)
            assert all(inspect(li).persistent for li in order.items)
        assert statements.starts() == []
        # A change is one UPDATE of the order's row: nothing inserted again.
        with StatementsSeen(await s.connection()) as statements:
            order.instructions = "less oil"
            await s.flush()
        assert statements.starts() == ["UPDATE orders SET"]
    async with container.sessionmaker() as s:
        assert (await s.get(Order, order_id)).instructions == "less oil"
        assert (
            len((await s.scalars(select(OrderItem).where(OrderItem.order_id == order_id))).all())
            == 2
        )


async def test_an_order_the_session_holds_is_locked_as_it_is_now(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1))
    async with container.sessionmaker() as s:
        held = await s.get(Order, order_id)
        assert held is not None and held.instructions is None
        await s.commit()  # the session keeps its object (on SQLite, a transaction blocks writers)
        # Another transaction changes it meanwhile.
        async with container.sessionmaker() as other, other.begin():
            await other.execute(
                update(Order).where(Order.id == order_id).values(instructions="no onion")
            )
        async with s.begin():
            locked = await lock_order(s, order_id)
            assert locked is held
            assert locked.instructions == "no onion"


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite's reader keeps its snapshot")
async def test_a_held_order_and_payment_are_refreshed_by_the_lock_not_by_a_read(client, container):
    """Held and not expired (read earlier in the same transaction): the lock shows what
    another request committed since, as `populate_existing` does; a plain read returns
    the session's object as it holds it, as `session.get` does."""
    order_id, payment_id = await order_with_payment(client, container)
    async with container.sessionmaker() as s, s.begin():
        held = await s.get(Order, order_id)
        held_payment = await s.get(Payment, payment_id)
        assert held is not None and held_payment is not None
        async with container.sessionmaker() as other, other.begin():
            await other.execute(
                update(Order).where(Order.id == order_id).values(instructions="no onion")
            )
            await other.execute(
                update(Payment).where(Payment.id == payment_id).values(status="captured")
            )
        read = await order_rows.read_order_row(s, order_id)
        assert read is held and read.instructions is None
        order, payment = await locked(s, order_id)
        assert order is held and order.instructions == "no onion"
        assert payment is held_payment and payment.status == "captured"


async def test_a_line_the_session_holds_sends_the_order_the_orms_way(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1), (menu.chai, 3))
    async with container.sessionmaker() as s, s.begin():
        line = await s.scalar(select(OrderItem).where(OrderItem.order_id == order_id).limit(1))
        assert line is not None
        order = await order_rows.lock_order_row(s, order_id)
        assert order is not None
        # The session's own line object, not a second one with the same identity.
        assert line in order.items and len(order.items) == 2
        assert inspect(order).persistent


async def test_an_order_that_is_not_there_is_not_found(container):
    async with container.sessionmaker() as s, s.begin():
        with pytest.raises(OrderNotFound):
            await lock_order(s, uuid.uuid4())


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite has no row locks: its writers queue")
async def test_the_lock_holds_another_change_until_the_commit(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1))
    async with container.sessionmaker() as first:
        await first.begin()
        order = await lock_order(first, order_id)
        order.instructions = "first"

        async def second_change() -> str | None:
            async with container.sessionmaker() as second, second.begin():
                return (await lock_order(second, order_id)).instructions

        waiting = asyncio.create_task(second_change())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # waiting on the row
        await first.commit()
    assert await waiting == "first"  # and then it reads the row as committed


async def test_the_history_read_in_the_change_holds_the_change(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1))
    async with container.sessionmaker() as s, s.begin():
        order = await lock_order(s, order_id)
        order.status = "preparing"
        await record_order_event(
            s, EventType.order_status_changed, order, data={"from": "confirmed", "to": "preparing"}
        )
        # The order's change was flushed before the event: a direct read sees both.
        assert (await s.scalar(select(Order.status).where(Order.id == order_id))) == "preparing"
        held, customer, events = await order_with_history(s, order_id)
        assert held is order and customer.id == order.customer_id
        assert [e.type for e in events] == ["order.created", "order.status_changed"]
        assert events[-1].status == "preparing" and events[-1].data["to"] == "preparing"
        assert [e.seq for e in events] == sorted(e.seq for e in events)
        assert all(not inspect(e).persistent for e in events)  # shown, not kept
    async with container.sessionmaker() as s:
        types = (await s.scalars(select(Event.type).where(Event.order_id == order_id))).all()
        assert sorted(types) == ["order.created", "order.status_changed"]


async def test_the_kitchens_answer_shows_the_change_it_made(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1), (menu.chai, 2))
    r = await _kitchen_starts(client, container, order_id, "+919000000201")
    data = r.json()["data"]
    assert data["status"] == "preparing"
    assert [line["quantity"] for line in data["items"]] == [1, 2]
    assert [e["type"] for e in data["events"]] == ["order.created", "order.status_changed"]
    assert data["events"][-1]["status"] == "preparing"
    assert data["customer"]["id"] is not None


@pytest.mark.skipif(BACKEND != "postgres", reason="the direct path is asyncpg's")
async def test_a_request_that_only_reads_begins_no_transaction(app, client, container):
    """Reading a customer's order, the apps' settings or an order socket's snapshot sends
    its reads alone: no BEGIN, no COMMIT (READ COMMITTED gives each statement its own
    snapshot in a transaction too). A change still locks inside one. An order comes with
    its lines, a payment with its refunds, each in one statement."""
    menu = await seed_menu(container)
    me = await login_customer(client, container)
    cash = await placed_order(client, container, (menu.dosa, 1), customer=me)
    upi, _ = await order_with_payment(client, container, customer=me, menu=menu)
    # The order comes with its lines, in one statement (no "SELECT order_items").
    reads = ["SELECT users", "SELECT orders", "SELECT payments"]
    kitchen = await login_staff(client, container, "kitchen", "+919000000202")
    async with ServerStatements(container.engine) as server:
        for order_id, expected in (
            (cash, [*reads, "SELECT canteen_config"]),
            # The payment comes with its refunds, in one statement.
            (upi, [*reads, "SELECT canteen_config"]),
        ):
            server.clear()
            r = await client.get(f"{API}/orders/{order_id}", headers=bearer(me))
            assert r.status_code == 200, r.text
            assert server.on_connection_that_sent("SELECT orders") == expected

        server.clear()
        assert (await client.get(f"{API}/config/public")).status_code == 200
        sent = server.on_connection_that_sent("SELECT time_slots")
        assert sent == ["SELECT canteen_config", "SELECT time_slots"]

        server.clear()
        async with serve(app) as host:
            url = f"ws://{host}{API}/ws/orders/{cash}?token={me['access_token']}"
            async with websockets.connect(url) as socket:
                assert json.loads(await socket.recv())["type"] == "order.snapshot"
        sent = server.on_connection_that_sent("SELECT orders")
        assert sent == [*reads[:2], "SELECT events", "SELECT payments", "SELECT canteen_config"]

        server.clear()
        r = await client.patch(
            f"{API}/admin/orders/{cash}/status",
            json={"status": "preparing"},
            headers=bearer(kitchen),
        )
        assert r.status_code == 200, r.text
        sent = server.on_connection_that_sent("SELECT orders")
        # The order locked with its lines; its change and its event in one statement
        # (`WITH changed AS (UPDATE …) INSERT INTO events …`); its customer with its history
        # for the answer.
        assert sent == ["SELECT users", "BEGIN", "SELECT orders", "WITH", "SELECT users", "COMMIT"]


async def test_a_customers_order_is_read_as_a_query_reads_it_and_no_one_elses(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 2), (menu.chai, 1))
    async with container.sessionmaker() as s:
        order = await s.get(Order, order_id)
        owner = await s.get(User, order.customer_id)
        columns = [c.key for c in inspect(Order).column_attrs]
        expected = [getattr(order, c) for c in columns]
    stranger = User(phone="+919811111111", name="Someone else", role="customer")
    async with container.sessionmaker() as s, s.begin():
        s.add(stranger)
    async with container.sessionmaker() as s:
        read = await get_own_order(s, owner, order_id)
        assert [getattr(read, c) for c in columns] == expected
        assert [li.quantity for li in read.items] == [2, 1]
        assert inspect(read).persistent and not inspect(read).modified
        assert await get_own_order(s, owner, order_id) is read  # the session's own, again
    async with container.sessionmaker() as s:
        with pytest.raises(OrderNotFound):
            await get_own_order(s, stranger, order_id)
        with pytest.raises(OrderNotFound):
            await get_own_order(s, owner, uuid.uuid4())


async def test_someone_elses_order_is_not_found_when_locked_and_stays_as_it_was(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1))
    stranger = User(phone="+919811111112", name="Someone else", role="customer")
    async with container.sessionmaker() as s, s.begin():
        s.add(stranger)
    with pytest.raises(OrderNotFound):
        async with container.sessionmaker() as s, s.begin():
            await lock_own_order(s, stranger, order_id)
    # The lock ended with the refused request: the kitchen changes the order at once.
    await _kitchen_starts(client, container, order_id, "+919000000202")
    async with container.sessionmaker() as s:
        owner_id = (await s.get(Order, order_id)).customer_id
        owner = await s.get(User, owner_id)
    async with container.sessionmaker() as s, s.begin():
        mine = await lock_own_order(s, owner, order_id)
        assert mine.status == "preparing"


async def test_the_settings_row_is_the_sessions_own_once_it_holds_one(container):
    async with container.sessionmaker() as s:
        first = await get_config(s)
        assert inspect(first).persistent and not inspect(first).modified
        first.delivery_fee = 12345  # an unflushed change, as a query would keep it
        assert await get_config(s) is first
        assert first.delivery_fee == 12345
    async with container.sessionmaker() as s:
        fresh = await get_config(s)
        assert fresh.delivery_fee != 12345
        queried = await s.scalar(select(CanteenConfig))
        assert queried is fresh


async def test_a_process_whose_first_read_is_the_settings_row_reads_it(settings, container):
    """A Celery worker's first job may read the settings before any query has configured
    the mappers: the row must load all the same (it did not, in the no-show sweep)."""
    program = (
        "import asyncio\n"
        "from canteen.core.db import make_engine\n"
        "from canteen.menu.config import get_config\n"
        "from sqlalchemy.ext.asyncio import async_sessionmaker\n"
        "async def main():\n"
        "    engine = make_engine(URL, pool=False)\n"
        "    async with async_sessionmaker(engine)() as s:\n"
        "        print((await get_config(s)).currency)\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
    ).replace("URL", repr(settings.resolved_database_url))
    async with container.sessionmaker() as s, s.begin():
        await get_config(s)  # the row exists
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", program, stdout=PIPE, stderr=PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == "INR"


async def test_a_payment_is_locked_as_it_is_now_whether_or_not_the_session_held_it(
    client, container
):
    order_id, payment_id = await order_with_payment(client, container)

    async def capture_elsewhere(status: str) -> None:
        async with container.sessionmaker() as other, other.begin():
            await other.execute(
                update(Payment).where(Payment.id == payment_id).values(status=status)
            )

    async with container.sessionmaker() as s:
        held = await s.get(Payment, payment_id)  # an unlocked read first (the webhook's)
        assert held is not None and held.status == "created"
        await s.commit()
        await capture_elsewhere("captured")
        async with s.begin():
            order, payment = await locked(s, order_id)
            assert payment is held and payment.status == "captured"
            assert order.id == order_id
    await capture_elsewhere("failed")
    async with container.sessionmaker() as s, s.begin():  # nothing held: the direct read
        order, payment = await locked(s, order_id)
        assert payment.id == payment_id and payment.status == "failed"
        assert inspect(payment).persistent and not inspect(payment).modified
        payment.error_code = "BAD_REQUEST_ERROR"  # a change is an UPDATE of that row
    async with container.sessionmaker() as s:
        assert (await s.get(Payment, payment_id)).error_code == "BAD_REQUEST_ERROR"


async def test_an_order_without_a_payment_has_none_to_lock(client, container):
    menu = await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1))
    async with container.sessionmaker() as s, s.begin():
        with pytest.raises(PaymentNotStarted):
            await locked(s, order_id)


async def test_one_orders_payment_facts_match_those_read_for_many(client, container):
    customer = await login_customer(client, container)
    order_id, _ = await order_with_payment(client, container, customer)
    async with container.sessionmaker() as s:
        dish = (await s.get(Order, order_id)).items[0].menu_item_id
    other_id = await placed_order(client, container, (dish, 1), customer=customer)
    async with container.sessionmaker() as s:
        one = await payments().facts(container, s, [await s.get(Order, order_id)])
    async with container.sessionmaker() as s:
        orders = [await s.get(Order, order_id), await s.get(Order, other_id)]
        many = await payments().facts(container, s, orders)
    assert one == {order_id: many[order_id]}
    assert one[order_id].payment is not None and one[order_id].payable
