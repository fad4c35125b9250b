"""The customer's `actions` against the real endpoints (issue 15): in each state an order
can be in, every action is pressed; the endpoint accepts it exactly when the order listed
it, and a refused one answers its error and writes nothing.

`pay` is accepted when paying the order's gateway order (a genuinely signed payment sent
to POST /payments/verify) confirms the order.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from menu_support import set_local_time
from orders_helpers import Menu, order_body, place, seed_menu, set_config
from sqlalchemy import func, select

from canteen.events.models import Event
from canteen.payments import capture
from canteen.payments.gateway import payment_signature
from canteen.payments.models import Payment, Refund
from conftest import API, bearer, login_customer, login_staff

ACTIONS = ["cancel", "pay", "retry_payment", "switch_to_cash", "feedback"]
# What each refused action answers (the order's state decides which).
REFUSALS = {
    "cancel": {(409, "INVALID_TRANSITION")},
    "pay": {(409, "PAYMENT_NOT_STARTED")},
    "retry_payment": {(409, "PAYMENT_NOT_RETRYABLE")},
    "switch_to_cash": {(409, "PAYMENT_NOT_RETRYABLE"), (409, "PAYMENT_METHOD_DISABLED")},
    "feedback": {(409, "ORDER_NOT_COMPLETED"), (409, "FEEDBACK_EXISTS")},
}


class World:
    def __init__(self, client: httpx.AsyncClient, container: Any, menu: Menu) -> None:
        self.client = client
        self.container = container
        self.menu = menu
        self.me: dict[str, Any] = {}
        self.kitchen: dict[str, Any] = {}

    async def order(self, method: str) -> str:
        r = await place(
            self.client, self.me, order_body((self.menu.dosa, 1), payment_method=method)
        )
        assert r.status_code == 201, r.text
        return str(r.json()["data"]["id"])

    async def get(self, oid: str) -> dict[str, Any]:
        r = await self.client.get(f"{API}/orders/{oid}", headers=bearer(self.me))
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()["data"]
        return data

    async def kitchen_moves(self, oid: str, *statuses: str) -> None:
        for status in statuses:
            r = await self.client.patch(
                f"{API}/admin/orders/{oid}/status",
                json={"status": status},
                headers=bearer(self.kitchen),
            )
            assert r.status_code == 200, r.text

    async def gateway_order(self, oid: str) -> str | None:
        async with self.container.sessionmaker() as s:
            payment = await s.scalar(select(Payment).where(Payment.order_id == uuid.UUID(oid)))
            return payment.gateway_order_id if payment else None

    async def verify(self, oid: str) -> httpx.Response:
        gw = await self.gateway_order(oid) or "order_none"
        pay_id = f"pay_{uuid.uuid4().hex[:14]}"
        secret = self.container.settings.razorpay_key_secret
        body = {
            "order_id": oid,
            "razorpay_order_id": gw,
            "razorpay_payment_id": pay_id,
            "razorpay_signature": payment_signature(secret, gw, pay_id),
        }
        return await self.client.post(f"{API}/payments/verify", json=body, headers=bearer(self.me))

    async def footprint(self, oid: str) -> tuple[Any, ...]:
        """Everything a refused action must leave as it was."""
        async with self.container.sessionmaker() as s:
            counts = [
                await s.scalar(select(func.count()).select_from(m).where(m.order_id == oid_))
                for m, oid_ in ((Event, uuid.UUID(oid)), (Payment, uuid.UUID(oid)))
            ]
            # This order's refunds: an earlier case's refund job may still land meanwhile.
            refunds = await s.scalar(
                select(func.count()).select_from(Refund).where(Refund.order_id == uuid.UUID(oid))
            )
            payment = await s.scalar(select(Payment).where(Payment.order_id == uuid.UUID(oid)))
            payment_row = (payment.status, payment.attempts) if payment else None
        return (await self.get(oid), *counts, refunds, payment_row)


async def _upi_open(w: World) -> str:
    return await w.order("upi")


async def _upi_declined(w: World) -> str:
    oid = await w.order("upi")
    gw = await w.gateway_order(oid)
    assert gw is not None
    async with w.container.sessionmaker() as s, s.begin():
        await capture.fail_by_gateway_order(s, gw, "BAD_REQUEST_ERROR", "Payment declined")
    return oid


async def _upi_open_cash_off(w: World) -> str:
    oid = await w.order("upi")
    await set_config(w.container, cash_payment_enabled=False)
    return oid


async def _upi_paid(w: World) -> str:
    oid = await w.order("upi")
    assert (await w.verify(oid)).status_code == 200
    return oid


async def _cash(w: World) -> str:
    return await w.order("cash")


async def _preparing(w: World) -> str:
    oid = await w.order("cash")
    await w.kitchen_moves(oid, "preparing")
    return oid


async def _ready(w: World) -> str:
    oid = await w.order("cash")
    await w.kitchen_moves(oid, "preparing", "ready")
    return oid


async def _completed(w: World) -> str:
    oid = await _ready(w)
    code = (await w.get(oid))["pickup_code"]
    r = await w.client.post(
        f"{API}/admin/orders/{oid}/handover",
        json={"pickup_code": code},
        headers=bearer(w.kitchen),
    )
    assert r.status_code == 200, r.text
    return oid


async def _rated(w: World) -> str:
    oid = await _completed(w)
    r = await w.client.post(
        f"{API}/orders/{oid}/feedback", json={"rating": 5}, headers=bearer(w.me)
    )
    assert r.status_code == 200, r.text
    return oid


async def _cancelled(w: World) -> str:
    oid = await w.order("cash")
    r = await w.client.post(f"{API}/orders/{oid}/cancel", headers=bearer(w.me))
    assert r.status_code == 200, r.text
    return oid


SCENARIOS: dict[str, tuple[Callable[[World], Awaitable[str]], list[str]]] = {
    "upi awaiting payment": (_upi_open, ["cancel", "pay", "retry_payment", "switch_to_cash"]),
    "upi declined": (_upi_declined, ["cancel", "pay", "retry_payment", "switch_to_cash"]),
    "upi awaiting, cash off": (_upi_open_cash_off, ["cancel", "pay", "retry_payment"]),
    "upi paid": (_upi_paid, ["cancel"]),
    "cash confirmed": (_cash, ["cancel"]),
    "preparing": (_preparing, []),
    "ready": (_ready, []),
    "completed": (_completed, ["feedback"]),
    "completed and rated": (_rated, []),
    "cancelled": (_cancelled, []),
}


async def _press(w: World, action: str, oid: str) -> tuple[bool, httpx.Response]:
    me = bearer(w.me)
    if action == "pay":
        before = (await w.get(oid))["status"]
        r = await w.verify(oid)
        confirmed = r.status_code == 200 and r.json()["data"]["status"] == "confirmed"
        return confirmed and before == "received", r
    path = {
        "cancel": "cancel",
        "retry_payment": "payment/retry",
        "switch_to_cash": "payment/switch-to-cash",
        "feedback": "feedback",
    }[action]
    body = {"rating": 4} if action == "feedback" else None
    r = await w.client.post(f"{API}/orders/{oid}/{path}", json=body, headers=me)
    return r.status_code == 200, r


async def test_every_action_is_accepted_exactly_when_listed(client, container, clock):
    # Its many orders need the kitchen windows of a working day: late in the evening too
    # few are left before the all-day slot ends, and a placement would get SLOT_FULL.
    set_local_time(clock, "10:00")
    w = World(client, container, await seed_menu(container))
    w.me = await login_customer(client, container)
    w.kitchen = await login_staff(client, container, "kitchen", "+919000000271")
    for name, (build, expected) in SCENARIOS.items():
        await set_config(container, cash_payment_enabled=True)
        oid = await build(w)
        listed = (await w.get(oid))["actions"]
        assert listed == expected, name
        for action in ACTIONS:
            before = await w.footprint(oid)
            accepted, r = await _press(w, action, oid)
            assert accepted == (action in listed), (name, action, r.status_code, r.text)
            if accepted:
                # The answer is the one presenter's order too, with the actions of its new state.
                assert set(r.json()["data"]["actions"]) <= set(ACTIONS)
                oid = await build(w)  # a fresh order in the same state for the next action
                continue
            if r.status_code == 200:
                # Paying an order already paid: verify answers it, and changes nothing.
                assert (action, r.json()["data"]["payment_status"]) == ("pay", "captured")
            else:
                err = r.json()["error"]
                assert (r.status_code, err["code"]) in REFUSALS[action], (name, action, r.text)
                assert err["message"] and isinstance(err["details"], list)
            assert await w.footprint(oid) == before, (name, action)  # nothing written


async def test_every_customer_answer_carries_actions_payment_and_refund(client, container):
    """Create, list, read, cancel, feedback, retry, switch and verify all show the order
    the same way (the cancel answer used to lack the payment and refund fields' content)."""
    w = World(client, container, await seed_menu(container))
    w.me = await login_customer(client, container)
    me = bearer(w.me)
    r = await place(client, w.me, order_body((w.menu.dosa, 1), payment_method="upi"))
    created = r.json()["data"]
    assert created["actions"] == ["cancel", "pay", "retry_payment", "switch_to_cash"]
    assert created["payment"]["status"] == "created"
    oid = created["id"]
    read = await w.get(oid)
    assert read == created
    listed = (await client.get(f"{API}/orders", headers=me)).json()["data"]
    assert listed == [created]
    retried = (await client.post(f"{API}/orders/{oid}/payment/retry", headers=me)).json()["data"]
    assert retried["actions"] == created["actions"] and retried["payment"] is not None
    r = await w.verify(oid)
    paid = r.json()["data"]
    assert paid["status"] == "confirmed" and paid["actions"] == ["cancel"]
    assert paid["payment"] is None and paid["refund"] is None
    cancelled = (await client.post(f"{API}/orders/{oid}/cancel", headers=me)).json()["data"]
    assert cancelled["status"] == "cancelled" and cancelled["actions"] == []
    assert set(cancelled) == set(read)  # the same fields as every other answer
