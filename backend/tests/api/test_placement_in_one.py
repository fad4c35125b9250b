"""The common placement in one statement (issue 20, step 52).

An order without counted stock whose first window has room is, on PostgreSQL, one
statement: the window taken, the day's number, the order with its estimate, its lines and
`order.created`, sent alone (no BEGIN, no COMMIT). A full first window writes nothing and
the placement takes the next windows in turn; a failure inside the statement leaves no
trace. The same orders on SQLite take the statements in turn, with the same results.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kitchen_helpers import at, parse, set_local_time, used, waiting_on_a_lock
from orders_helpers import a_line, order_body, place, seed_menu
from sqlalchemy import Integer, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from statements_seen import ServerStatements

from canteen.core.clock import iso_z
from canteen.core.db import UTCDateTime
from canteen.events.models import Event
from canteen.kitchen import eta
from canteen.kitchen.capacity import WINDOW, Reservation, Window
from canteen.kitchen.models import KitchenWindow
from canteen.orders import order_rows
from canteen.orders.models import Order, OrderDayCounter, OrderItem
from canteen_testkit.stack import BACKEND
from conftest import count_rows, login_customer

only_postgres = pytest.mark.skipif(
    BACKEND != "postgres", reason="data-modifying WITH and asyncpg's own log are PostgreSQL's"
)


def lunch(*lines, **kw):
    return order_body(*lines, time_slot="lunch", **kw)


async def _written(container, order_id: str) -> tuple[Order, list[OrderItem], list[Event]]:
    async with container.sessionmaker() as session:
        order = await session.get(Order, uuid.UUID(order_id))
        assert order is not None
        lines = list(
            await session.scalars(
                select(OrderItem).where(OrderItem.order_id == order.id).order_by(OrderItem.position)
            )
        )
        events = list(await session.scalars(select(Event).where(Event.order_id == order.id)))
        return order, lines, events


async def test_an_order_whose_first_window_has_room_is_written_whole(client, container, clock):
    """The order, its lines, its window's minutes, its number and `order.created` with the
    estimate: the estimate is the kitchen's (the window's used minutes at its capacity,
    never before the food could be ready) and the event says it as the answer does."""
    set_local_time(clock, 9, 0)
    m = await seed_menu(container)
    me = await login_customer(client, container)
    r = await place(client, me, lunch((m.chai, 2), (m.dosa, 1)))
    assert r.status_code == 201, r.text
    placed = r.json()["data"]
    order, lines, events = await _written(container, placed["id"])
    assert [(li.name, li.quantity) for li in lines] == [("Cutting Chai", 2), ("Masala Dosa", 1)]
    assert order.pickup_window_start == at(clock, "12:00") and order.window_minutes == 15
    assert await used(container, "lunch") == {"12:00": 15}
    # A pre-order: 15 of the window's 15 minutes used, so ready as the window ends.
    assert order.estimated_ready_at == order.promised_ready_at == at(clock, "12:15")
    assert placed["estimated_ready_at"] == iso_z(at(clock, "12:15"))
    [created] = events
    assert (created.type, created.order_number) == ("order.created", order.number)
    assert created.data["estimated_ready_at"] == placed["estimated_ready_at"]
    assert created.data["items"][0] == {
        "name": "Cutting Chai",
        "quantity": 2,
        "notes": None,
        "options": [],
    }
    async with container.sessionmaker() as session:
        counter = await session.get(OrderDayCounter, order.business_date)
        assert counter is not None and counter.last_seq == order.daily_seq == 1


@only_postgres
async def test_on_postgresql_it_is_one_statement_sent_alone(client, container, clock):
    """After the placement's opening read (which reads the account too), one statement and
    nothing else on the request's connection: no BEGIN, no COMMIT (one statement is atomic
    on its own)."""
    set_local_time(clock, 9, 0)
    m = await seed_menu(container)
    me = await login_customer(client, container)
    # The first order after a menu change reads the new catalogue in a transaction.
    assert (await place(client, me, lunch((m.chai, 1)))).status_code == 201
    async with ServerStatements(container.engine) as server:
        r = await place(client, me, lunch((m.chai, 1)))
        assert r.status_code == 201, r.text
        sent = server.on_connection_that_sent("WITH")
    # The opening read is named by its first FROM: the earlier order by idempotency key.
    assert sent == ["SELECT orders", "WITH"]
    assert await count_rows(container, OrderItem) == 2


async def test_a_full_first_window_is_passed_over_for_the_next_with_room(client, container, clock):
    """The first window's room is gone: its minutes and the day's counter stay as they
    were, and the order goes to the next window with room, numbered next (on PostgreSQL
    still in one statement)."""
    set_local_time(clock, 9, 0)
    m = await seed_menu(container)
    me = await login_customer(client, container)
    first = await place(client, me, lunch((m.dosa, 2)))  # 24 minutes: the whole window
    if BACKEND == "postgres":
        async with ServerStatements(container.engine) as server:
            second = await place(client, me, lunch((m.chai, 1)))
            sent = server.on_connection_that_sent("WITH")
        assert sent == ["SELECT orders", "WITH"]
    else:
        second = await place(client, me, lunch((m.chai, 1)))
    assert first.status_code == second.status_code == 201, second.text
    assert await used(container, "lunch") == {"12:00": 15, "12:15": 3}
    numbers = [first.json()["data"]["number"], second.json()["data"]["number"]]
    assert [n[-3:] for n in numbers] == ["001", "002"]
    order, lines, events = await _written(container, second.json()["data"]["id"])
    assert order.pickup_window_start == at(clock, "12:15") and len(lines) == 1
    assert [e.type for e in events] == ["order.created"]
    assert parse(events[0].data["estimated_ready_at"]) == order.estimated_ready_at
    assert await count_rows(container, Order) == 2


@only_postgres
async def test_a_window_filled_while_the_statement_waits_is_not_overfilled(
    client, container, clock
):
    """The statement saw room in the first window, but another placement held its row and
    then filled it: the conditional upsert, checked under the row's lock, takes nothing,
    and the placement takes the next window with room in turn."""
    set_local_time(clock, 9, 0)
    m = await seed_menu(container)
    me = await login_customer(client, container)
    assert (await place(client, me, lunch((m.chai, 1)))).status_code == 201  # 3 of 15
    async with container.sessionmaker() as held:
        await held.execute(
            update(KitchenWindow)
            .where(KitchenWindow.window_start == at(clock, "12:00"))
            .values(used_minutes=KitchenWindow.used_minutes)
        )
        request = asyncio.create_task(place(client, me, lunch((m.dosa, 1))))  # 12 minutes
        await waiting_on_a_lock(container)
        await held.execute(
            update(KitchenWindow)
            .where(KitchenWindow.window_start == at(clock, "12:00"))
            .values(used_minutes=14)
        )
        await held.commit()
    r = await asyncio.wait_for(request, 30)
    assert r.status_code == 201, r.text
    assert parse(r.json()["data"]["pickup_window_start"]) == at(clock, "12:15")
    assert await used(container, "lunch") == {"12:00": 14, "12:15": 12}
    assert await count_rows(container, Order) == 2
    assert await count_rows(container, OrderItem) == 2


@only_postgres
async def test_a_statement_that_fails_leaves_nothing(client, container, clock):
    """An order for an account that is not there (its reference refused by the database)
    fails inside the statement: no window minutes, no number, no order, line or event."""
    set_local_time(clock, 9, 0)
    await seed_menu(container)
    now = clock.now()
    order_id = uuid.uuid4()
    row = order_rows.order_values(
        id=order_id,
        business_date=now.date(),
        customer_id=uuid.uuid4(),  # no such account
        status="confirmed",
        payment_method="cash",
        payment_status="cash_due",
        order_type="pickup",
        time_slot="lunch",
        subtotal=1500,
        delivery_fee=0,
        total=1500,
        currency="INR",
        pickup_code="0420",
        prep_minutes=3,
        window_minutes=3,
        idempotency_key="k" * 20,
        request_hash="h" * 64,
        confirmed_at=now,
        created_at=now,
        updated_at=now,
    )
    line = a_line(order_id, "Cutting Chai", 1500, 3)
    async with container.sessionmaker() as session:
        with pytest.raises(IntegrityError):
            await order_rows.place_in_one(
                session,
                row,
                [line],
                slot_code="lunch",
                windows=[Window(at(clock, "12:00"), at(clock, "12:15"))],
                capacity_minutes=15,
                ready_from=now + timedelta(minutes=3),
                business_date=now.date(),
                event_data={"items": [], "estimated_ready_at": None},
                actor_id=uuid.uuid4(),
            )
    assert await used(container, "lunch") == {}
    for model in (Order, OrderItem, Event, OrderDayCounter, KitchenWindow):
        assert await count_rows(container, model) == 0, model


@only_postgres
async def test_the_statements_estimate_and_its_text_are_the_placements(container):
    """`eta.placement_estimate_sql` and the event's text agree with `placement_estimate`
    and `iso_z` to the microsecond, whole seconds or not."""
    start = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)
    cases = [
        (start - timedelta(minutes=5), 15, 15),  # the queue decides: the window's end
        (start, 1, 7),  # 900 s / 7: a fraction of a second
        (start, 5, 45),
        (start + timedelta(minutes=20, microseconds=17), 3, 15),  # the food decides
        (start, 331, 997),
    ]
    ready = bindparam("ready", type_=UTCDateTime())
    at_sql = eta.placement_estimate_sql(
        ready,
        bindparam("start", type_=UTCDateTime()),
        bindparam("used", type_=Integer()),
        bindparam("cap", type_=Integer()),
    )
    query = select(at_sql, order_rows._iso_sql(at_sql))
    async with container.sessionmaker() as session:
        for ready_from, used_after, capacity in cases:
            reservation = Reservation(Window(start, start + WINDOW), capacity, 1, used_after)
            expected = eta.placement_estimate(ready_from, reservation)
            got = (
                await session.execute(
                    query,
                    {"ready": ready_from, "start": start, "used": used_after, "cap": capacity},
                )
            ).one()
            assert (got[0], got[1]) == (expected, iso_z(expected))
