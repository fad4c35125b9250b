"""The tracking screen's state for an order nobody collected (issue 16, part 4), against the
real backend: the kitchen marks a cash order ready, its collection window passes and the
backend's own sweep (every 30 s in-process) moves it to not_collected; the app hears it
live and says "Not collected"."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, timedelta

from app_harness import Api, Backend, DemoMenu
from app_support import sign_in
from canteen_app.state.tracking import current_step_label, eta_text, stepper
from test_app_state import eventually, place


def _window_passed(backend: Backend, order_id: str) -> None:
    """Put the order's ready time 31 minutes back (the window is 30), as the clock would."""
    db = sqlite3.connect(backend.data_dir / "canteen.sqlite3", timeout=10)
    try:
        key = uuid.UUID(order_id).hex
        (ready_at,) = db.execute("SELECT ready_at FROM orders WHERE id = ?", (key,)).fetchone()
        earlier = datetime.fromisoformat(ready_at) - timedelta(minutes=31)
        db.execute("UPDATE orders SET ready_at = ? WHERE id = ?", (str(earlier), key))
        db.commit()
    finally:
        db.close()


async def test_an_uncollected_order_says_not_collected(
    make_state, api: Api, backend: Backend, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    mine = await place(state, menu, "Masala Chai", "cash")
    tracking = state.tracking(mine.id)
    await tracking.load()
    task = tracking.start()
    api.set_status(mine.id, "preparing")
    api.set_status(mine.id, "ready")
    await eventually(lambda: tracking.status == "ready", "ready", tries=400)
    _window_passed(backend, mine.id)
    await eventually(
        lambda: tracking.status == "not_collected", "the sweep", tries=1000
    )  # up to 50 s: the sweep runs every 30 s
    assert tracking.finished
    assert current_step_label(mine.order_type, "not_collected") == "Not collected"
    steps = stepper(mine.order_type, "not_collected", tracking.history)
    assert [(s.label, s.state) for s in steps] == [
        ("Placed", "done"),
        ("Confirmed", "done"),
        ("Preparing", "done"),
        ("Ready for pickup", "done"),
        ("Not collected", "cancelled"),
    ]
    assert (
        eta_text(datetime.now().astimezone(), datetime.now().astimezone(), "not_collected") is None
    )
    order = await state.api.orders.order(mine.id)
    assert (order.status, list(order.actions)) == ("not_collected", [])
    await tracking.stop()
    task.cancel()
