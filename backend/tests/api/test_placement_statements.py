"""The statements of one placement (issue 20).

Every placement takes two rows every other placement also wants: its kitchen window's row
(the reservation) and the day's counter row (the order number). Both stay locked to the
commit, so what runs between them and the commit decides how long the next placement
waits. The lines are written before; under those rows only the counter, the order's one
INSERT (complete with number and window) and the `order.created` event run, then COMMIT:
on PostgreSQL those three are one statement (`WITH counter AS (INSERT …)`), on SQLite three.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from orders_helpers import a_line, order_body, place, seed_menu
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from statements_seen import ServerStatements

from canteen.events.models import Event
from canteen.orders.models import Order, OrderDayCounter, OrderItem
from canteen.orders.order_rows import insert_lines
from canteen.payments.models import Payment
from canteen_testkit.stack import BACKEND
from conftest import login_customer

# The writes under the day's counter row: one statement on PostgreSQL, three on SQLite.
NUMBERED = (
    ["WITH counter"]
    if BACKEND == "postgres"
    else ["INSERT order_day_counters", "INSERT orders", "INSERT events"]
)


# The window is taken by its own INSERT, or by the one statement of a common placement on
# PostgreSQL (test_placement_in_one).
_TAKES_THE_WINDOW = ("INSERT kitchen_windows", "WITH taken")


def _kind(statement: str) -> str:
    words = statement.split()
    if words[0] == "UPDATE":
        return f"UPDATE {words[1]}"
    if words[0] == "INSERT":
        return f"INSERT {words[2]}"
    if words[0] == "WITH":
        return f"WITH {words[1]}"
    return " ".join(words[:2])


async def _statements_of_one_placement(
    client, container, body, sql: list[str] | None = None, customer: Any = None
) -> tuple[Any, list[str]]:
    """The placement's statements and COMMIT, on its own connection (the dispatcher and
    the jobs use others meanwhile); `sql` gets their text."""
    customer = customer or await login_customer(client, container)
    seen: list[tuple[int, str, str]] = []

    def on_execute(conn, _cursor, statement, *_: Any) -> None:
        seen.append((id(conn.connection.dbapi_connection), _kind(statement), statement))

    def on_commit(conn) -> None:
        seen.append((id(conn.connection.dbapi_connection), "COMMIT", "COMMIT"))

    engine = container.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        r = await place(client, customer, body)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
    assert r.status_code == 201, r.text
    placing = next(conn for conn, kind, _ in seen if kind in _TAKES_THE_WINDOW)
    mine = [kind for conn, kind, _ in seen if conn == placing]
    taken = next(at for at, kind in enumerate(mine) if kind in _TAKES_THE_WINDOW)
    end = mine.index("COMMIT", taken) + 1
    if sql is not None:
        sql.extend([text for conn, _, text in seen if conn == placing][:end])
    return r, mine[:end]


async def test_the_shared_rows_are_held_to_the_commit_by_the_fewest_statements(client, container):
    """On PostgreSQL a common order is one statement (test_placement_in_one); on SQLite
    the statements run in turn, the lines first."""
    menu = await seed_menu(container)
    r, statements = await _statements_of_one_placement(
        client, container, order_body((menu.dosa, 2), (menu.chai, 1))
    )
    if BACKEND == "postgres":
        assert statements[-2:] == ["WITH taken", "COMMIT"]
        assert "INSERT order_items" not in statements
    else:
        window = statements.index("INSERT kitchen_windows")
        assert statements[window:] == ["INSERT kitchen_windows", *NUMBERED, "COMMIT"]
        # The lines went in before; the order's row is written once, never updated.
        assert statements.index("INSERT order_items") < window
    assert "UPDATE orders" not in statements
    placed = r.json()["data"]
    assert placed["number"].startswith("ORD-") and placed["pickup_window_start"] is not None


async def test_an_order_with_counted_stock_moves_the_menu_version_under_the_same_rows(
    client, container
):
    """Stock that moves bumps the settings row's menu version: after the window, before the
    counter (the lock order every placement and cancel keeps)."""
    menu = await seed_menu(container, samosa_stock=5)
    _, statements = await _statements_of_one_placement(
        client, container, order_body((menu.samosa, 1))
    )
    window = statements.index("INSERT kitchen_windows")
    assert statements.index("UPDATE menu_items") < statements.index("INSERT order_items") < window
    assert statements[window:] == [
        "INSERT kitchen_windows",
        "UPDATE canteen_config",
        *NUMBERED,
        "COMMIT",
    ]


async def test_a_line_whose_order_never_arrives_fails_the_commit(container):
    """The lines go in before their order, so their reference is checked at commit
    (migration 0018): checked all the same, and nothing of the placement stays."""
    order_id = uuid.uuid4()
    line = a_line(order_id, "Masala dosa", 6000, 8)
    async with container.sessionmaker() as session:
        await session.begin()
        await insert_lines(session, [line])  # accepted: not checked yet
        with pytest.raises(IntegrityError):
            await session.commit()
    async with container.sessionmaker() as session:
        count = select(func.count()).select_from(OrderItem).where(OrderItem.order_id == order_id)
        assert await session.scalar(count) == 0


async def test_the_kitchen_is_read_with_the_settings(client, container):
    """The slot's kitchen minutes and the dishes' measured times come with the settings
    row, in the placement's opening read: no read of its own."""
    menu = await seed_menu(container)
    sql: list[str] = []
    await _statements_of_one_placement(
        client, container, order_body((menu.dosa, 2), (menu.chai, 1)), sql
    )
    kitchen_reads = [text for text in sql if "kitchen_item_timings" in text]
    assert len(kitchen_reads) == 1
    assert "kitchen_slot_capacity" in kitchen_reads[0] and "FROM canteen_config" in kitchen_reads[0]
    # The slot has no row of its own: the staff default is counted in that same read.
    assert "FROM users" in kitchen_reads[0]
    assert [text for text in sql if "count(" in text and "kitchen_item_timings" not in text] == []


async def test_the_order_is_numbered_by_the_days_counter_and_its_event_carries_the_number(
    client, container
):
    """The counter gives the number, padded to three digits and past them: the order's row,
    its event and the answer all say the same."""
    menu = await seed_menu(container)
    customer = await login_customer(client, container)
    first = await place(client, customer, order_body((menu.dosa, 1)))
    assert first.status_code == 201, first.text
    number = first.json()["data"]["number"]
    day = number.split("-")[1]
    assert number == f"ORD-{day}-001"
    async with container.sessionmaker() as session, session.begin():
        placed_first = await session.get(Order, uuid.UUID(first.json()["data"]["id"]))
        assert placed_first is not None
        counter = await session.get(OrderDayCounter, placed_first.business_date)
        assert counter is not None and counter.last_seq == 1
        counter.last_seq = 1233
    second = await place(client, customer, order_body((menu.dosa, 1)))
    assert second.status_code == 201, second.text
    placed = second.json()["data"]
    assert placed["number"] == f"ORD-{day}-1234"
    async with container.sessionmaker() as session:
        order = await session.get(Order, uuid.UUID(placed["id"]))
        assert order is not None and (order.daily_seq, order.number) == (1234, placed["number"])
        created = await session.scalar(
            select(Event).where(Event.order_id == order.id, Event.type == "order.created")
        )
        assert created is not None and created.order_number == placed["number"]
        assert created.data["estimated_ready_at"] is not None
        assert await session.scalar(select(func.count()).select_from(Order)) == 2


@pytest.mark.skipif(BACKEND != "postgres", reason="BEGIN and COMMIT are asyncpg's to see")
async def test_a_upi_orders_payment_is_written_alone_after_the_placements_commit(client, container):
    """The checkout of a just-placed UPI order writes one row, its payment, after the
    placement has committed: the row's INSERT is sent on its own, with no BEGIN before it
    and no COMMIT after it (one statement is atomic without them), and it stays."""
    menu = await seed_menu(container)
    customer = await login_customer(client, container)
    async with ServerStatements(container.engine) as server:
        r = await place(client, customer, order_body((menu.dosa, 1), payment_method="upi"))
        assert r.status_code == 201, r.text
        sent = server.on_connection_that_sent("INSERT payments")
    at = sent.index("INSERT payments")
    assert at == 0 or sent[at - 1] == "COMMIT"  # the placement's, on the same connection
    assert sent[at + 1 :] == []
    placed = r.json()["data"]
    assert placed["payment"]["gateway_order_id"].startswith("order_")
    async with container.sessionmaker() as session:
        payment = await session.scalar(
            select(Payment).where(Payment.order_id == uuid.UUID(placed["id"]))
        )
        assert payment is not None
        assert payment.gateway_order_id == placed["payment"]["gateway_order_id"]
