"""`Order.actions` through the SDK (issue 15): what the customer may do now, as the server
lists it; an older server's answer (without it) reads as no actions."""

from __future__ import annotations

from canteen_client import Order, OrderAction

from .sdk_harness import seed_menu, set_status, sign_in, staff_session

BASE = {
    "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "number": "ORD-20260105-001",
    "status": "received",
    "payment_method": "upi",
    "payment_status": "pending",
    "order_type": "pickup",
    "items": [],
    "subtotal": 9000,
    "total": 9000,
    "created_at": "2026-01-05T06:30:00+00:00",
    "updated_at": "2026-01-05T06:31:00+00:00",
}


def test_actions_are_read_and_asked_about() -> None:
    order = Order.from_json({**BASE, "actions": ["cancel", "pay", "tip_the_cook"]})
    assert order.actions == ("cancel", "pay", "tip_the_cook")  # a newer action is kept
    assert order.can(OrderAction.cancel) and order.can("pay")
    assert not order.can(OrderAction.switch_to_cash)
    assert Order.from_json(BASE).actions == ()


async def test_the_server_lists_what_each_state_allows(api, raw, container):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    kitchen = await staff_session(raw, container, "kitchen", "+919000000231")
    upi = await api.orders.place([(m.dosa, 1)], payment_method="upi", time_slot="allday")
    assert upi.actions == ("cancel", "pay", "retry_payment", "switch_to_cash")
    paid = await api.payments.sandbox_pay(upi.payment, "success")  # type: ignore[arg-type]
    confirmed = await api.payments.verify_result(upi.id, paid.checkout_result)
    assert confirmed.actions == ("cancel",)

    cash = await api.orders.place([(m.chai, 1)], time_slot="allday")
    assert cash.actions == ("cancel",)
    for status in ("preparing", "ready"):
        await set_status(raw, kitchen, cash.id, status)
    assert (await api.orders.order(cash.id)).actions == ()
    await set_status(raw, kitchen, cash.id, "completed", pickup_code=cash.pickup_code)
    done = await api.orders.order(cash.id)
    assert done.can(OrderAction.feedback)
    rated = await api.orders.feedback(cash.id, 5, None)
    assert rated.actions == ()
    cancelled = await api.orders.cancel(upi.id)
    assert cancelled.status == "cancelled" and cancelled.actions == ()
