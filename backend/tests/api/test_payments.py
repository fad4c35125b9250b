"""UPI payments end to end through the Razorpay-compatible sandbox (issue #5)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import websockets
from live import serve
from orders_helpers import order_body, place, seed_menu, set_config

from canteen.events.models import Event
from canteen.payments.gateway import payment_signature
from canteen.payments.models import Payment, Refund, WebhookEvent
from canteen.payments.tasks import expire_unpaid
from conftest import API, assert_error, bearer, count_rows, login_customer, login_staff


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


def sandbox_pay(razorpay_sandbox: Any, gateway_order_id: str, outcome: str) -> dict[str, Any]:
    r = httpx.post(
        f"{razorpay_sandbox.base_url}/sandbox/pay",
        json={"order_id": gateway_order_id, "outcome": outcome},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()


async def _upi_order(client, container, me=None, m=None, **kw):
    m = m or await seed_menu(container)
    me = me or await login_customer(client, container)
    r = await place(client, me, order_body((m.dosa, 1), payment_method="upi", **kw))
    assert r.status_code == 201, r.text
    return me, r.json()["data"]


async def _order(client, me, oid):
    return (await client.get(f"{API}/orders/{oid}", headers=bearer(me))).json()["data"]


async def _events(container, oid) -> list[tuple[str, str | None]]:
    from sqlalchemy import select

    async with container.sessionmaker() as s:
        rows = await s.scalars(
            select(Event).where(Event.order_id == uuid.UUID(str(oid))).order_by(Event.seq)
        )
        return [(e.type, e.status) for e in rows]


@pytest.fixture
def webhooks_to(razorpay_sandbox):
    """Point the sandbox's webhooks at a live server for one test."""

    def point(host: str) -> None:
        razorpay_sandbox.sandbox.webhook_url = f"http://{host}{API}/payments/webhooks/razorpay"

    yield point
    razorpay_sandbox.sandbox.webhook_url = None


async def test_upi_order_carries_checkout_details(client, container, razorpay_sandbox):
    _, order = await _upi_order(client, container)
    p = order["payment"]
    assert p["gateway"] == "razorpay" and p["key_id"] == "rzp_test_canteensandbox"
    assert p["gateway_order_id"].startswith("order_")
    assert p["amount"] == order["total"] and p["currency"] == "INR"
    assert p["checkout_url"].startswith(razorpay_sandbox.base_url + "/checkout/")
    gw = razorpay_sandbox.sandbox.order(p["gateway_order_id"])
    assert gw["receipt"] == order["number"] and gw["amount"] == order["total"]


async def test_verify_confirms_once(client, container, razorpay_sandbox):
    me, order = await _upi_order(client, container)
    paid = sandbox_pay(razorpay_sandbox, order["payment"]["gateway_order_id"], "success")
    body = {"order_id": order["id"], **paid}
    r = await client.post(f"{API}/payments/verify", json=body, headers=bearer(me))
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "confirmed"
    assert r.json()["data"]["payment_status"] == "captured"
    events = await _events(container, order["id"])
    r = await client.post(f"{API}/payments/verify", json=body, headers=bearer(me))
    assert r.status_code == 200 and r.json()["data"]["status"] == "confirmed"
    assert await _events(container, order["id"]) == events  # no second event
    assert events == [("order.created", "received"), ("order.status_changed", "confirmed")]


async def test_forged_and_foreign_signatures_change_nothing(client, container, razorpay_sandbox):
    m = await seed_menu(container)
    me, a = await _upi_order(client, container, m=m)
    _, b = await _upi_order(client, container, me=me, m=m)
    paid_b = sandbox_pay(razorpay_sandbox, b["payment"]["gateway_order_id"], "success")
    cases = [
        {**paid_b, "order_id": a["id"]},  # a genuine signature, for another order
        {
            "order_id": a["id"],
            "razorpay_order_id": a["payment"]["gateway_order_id"],
            "razorpay_payment_id": paid_b["razorpay_payment_id"],
            "razorpay_signature": "0" * 64,
        },
        {
            "order_id": a["id"],
            "razorpay_order_id": a["payment"]["gateway_order_id"],
            "razorpay_payment_id": "pay_forged",
            "razorpay_signature": payment_signature(
                "wrong-secret", a["payment"]["gateway_order_id"], "pay_forged"
            ),
        },
    ]
    for body in cases:
        r = await client.post(f"{API}/payments/verify", json=body, headers=bearer(me))
        assert_error(r, 400, "PAYMENT_SIGNATURE_INVALID")
    order_a = await _order(client, me, a["id"])
    assert order_a["status"] == "received" and order_a["payment_status"] == "pending"
    assert await _events(container, a["id"]) == [("order.created", "received")]


async def test_someone_elses_order_cannot_be_verified(client, container, razorpay_sandbox):
    _, order = await _upi_order(client, container)
    other = await login_customer(client, container, "+919812300000")
    paid = sandbox_pay(razorpay_sandbox, order["payment"]["gateway_order_id"], "success")
    r = await client.post(
        f"{API}/payments/verify", json={"order_id": order["id"], **paid}, headers=bearer(other)
    )
    assert_error(r, 404, "NOT_FOUND")


async def test_webhook_confirms_and_verify_after_is_a_no_op(
    app, client, container, razorpay_sandbox, webhooks_to
):
    me, order = await _upi_order(client, container)
    async with serve(app) as host:
        webhooks_to(host)
        paid = sandbox_pay(razorpay_sandbox, order["payment"]["gateway_order_id"], "success")

        async def confirmed() -> bool:
            return (await _order(client, me, order["id"]))["status"] == "confirmed"

        await eventually(confirmed)
        r = await client.post(
            f"{API}/payments/verify", json={"order_id": order["id"], **paid}, headers=bearer(me)
        )
        assert r.status_code == 200 and r.json()["data"]["status"] == "confirmed"
    assert await _events(container, order["id"]) == [
        ("order.created", "received"),
        ("order.status_changed", "confirmed"),
    ]
    kinds = {w.event for w in await _webhooks(container)}
    assert {"payment.authorized", "payment.captured", "order.paid"} <= kinds


async def _webhooks(container) -> list[WebhookEvent]:
    from sqlalchemy import select

    async with container.sessionmaker() as s:
        return list(await s.scalars(select(WebhookEvent)))


async def test_duplicate_and_reordered_webhooks(
    app, client, container, razorpay_sandbox, webhooks_to
):
    me, order = await _upi_order(client, container)
    async with serve(app) as host:
        webhooks_to(host)
        razorpay_sandbox.sandbox.duplicate_next_webhook()
        razorpay_sandbox.sandbox.reorder_next_webhooks()
        sandbox_pay(razorpay_sandbox, order["payment"]["gateway_order_id"], "success")

        async def all_processed() -> bool:
            rows = await _webhooks(container)
            return len(rows) >= 3 and all(r.processed_at for r in rows)

        await eventually(all_processed)
    rows = await _webhooks(container)
    assert len({r.id for r in rows}) == len(rows) == 3  # the duplicate was stored once
    assert (await _order(client, me, order["id"]))["status"] == "confirmed"
    assert await _events(container, order["id"]) == [
        ("order.created", "received"),
        ("order.status_changed", "confirmed"),
    ]


async def test_bad_webhook_signature_stores_nothing(client, container):
    body = b'{"event":"payment.captured","payload":{}}'
    for sig in (None, "deadbeef"):
        headers = {"content-type": "application/json", "x-razorpay-event-id": "evt_1"}
        if sig:
            headers["X-Razorpay-Signature"] = sig
        r = await client.post(f"{API}/payments/webhooks/razorpay", content=body, headers=headers)
        assert_error(r, 400, "PAYMENT_SIGNATURE_INVALID")
    assert await count_rows(container, WebhookEvent) == 0


async def test_webhook_with_the_wrong_bytes_is_refused(client, container, settings):
    from canteen.payments.gateway import webhook_signature

    body = b'{"event":"payment.captured","payload":{}}\n'
    sig = webhook_signature(settings.razorpay_webhook_secret, body)
    r = await client.post(
        f"{API}/payments/webhooks/razorpay",
        content=body.rstrip(b"\n"),
        headers={"X-Razorpay-Signature": sig, "x-razorpay-event-id": "evt_2"},
    )
    assert_error(r, 400, "PAYMENT_SIGNATURE_INVALID")
    r = await client.post(
        f"{API}/payments/webhooks/razorpay",
        content=body,
        headers={"X-Razorpay-Signature": sig, "x-razorpay-event-id": "evt_2"},
    )
    assert r.status_code == 200 and r.json()["data"] == {"received": True, "duplicate": False}
    r = await client.post(
        f"{API}/payments/webhooks/razorpay",
        content=body,
        headers={"X-Razorpay-Signature": sig, "x-razorpay-event-id": "evt_2"},
    )
    assert r.json()["data"] == {"received": True, "duplicate": True}
    assert await count_rows(container, WebhookEvent) == 1


async def test_failure_then_retry_then_success(
    app, client, container, razorpay_sandbox, webhooks_to
):
    me, order = await _upi_order(client, container)
    gw = order["payment"]["gateway_order_id"]
    async with serve(app) as host:
        webhooks_to(host)
        sandbox_pay(razorpay_sandbox, gw, "failure")

        async def failed() -> bool:
            return (await _order(client, me, order["id"]))["payment_status"] == "failed"

        await eventually(failed)
        kitchen = await login_staff(client, container, "kitchen", "+919000000201")
        r = await client.patch(
            f"{API}/admin/orders/{order['id']}/status",
            json={"status": "preparing"},
            headers=bearer(kitchen),
        )
        assert_error(r, 409, "PAYMENT_PENDING")
        r = await client.post(f"{API}/orders/{order['id']}/payment/retry", headers=bearer(me))
        assert r.status_code == 200, r.text
        again = r.json()["data"]
        assert again["payment_status"] == "pending"
        assert again["payment"]["gateway_order_id"] == gw
        paid = sandbox_pay(razorpay_sandbox, gw, "success")
        r = await client.post(
            f"{API}/payments/verify", json={"order_id": order["id"], **paid}, headers=bearer(me)
        )
        assert r.json()["data"]["status"] == "confirmed"


async def test_failure_then_captured_ends_captured(
    app, client, container, razorpay_sandbox, webhooks_to
):
    me, order = await _upi_order(client, container)
    gw = order["payment"]["gateway_order_id"]
    async with serve(app) as host:
        webhooks_to(host)
        failed = sandbox_pay(razorpay_sandbox, gw, "failure")
        payment_id = failed["error"]["metadata"]["payment_id"]
        r = httpx.post(
            f"{razorpay_sandbox.base_url}/sandbox/payments/{payment_id}/settle",
            json={"outcome": "captured"},
            timeout=10,
        )
        assert r.status_code == 200, r.text

        async def confirmed() -> bool:
            return (await _order(client, me, order["id"]))["status"] == "confirmed"

        await eventually(confirmed)
        await asyncio.sleep(0.5)  # any late failure webhook must not undo it
    final = await _order(client, me, order["id"])
    assert final["status"] == "confirmed" and final["payment_status"] == "captured"


async def test_switch_to_cash(client, container):
    me, order = await _upi_order(client, container)
    r = await client.post(f"{API}/orders/{order['id']}/payment/switch-to-cash", headers=bearer(me))
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["status"], data["payment_method"], data["payment_status"]) == (
        "confirmed",
        "cash",
        "cash_due",
    )
    assert data["payment"] is None
    r = await client.post(f"{API}/orders/{order['id']}/payment/retry", headers=bearer(me))
    assert_error(r, 409, "PAYMENT_NOT_RETRYABLE")


async def test_switch_to_cash_refused_when_cash_is_off(client, container):
    me, order = await _upi_order(client, container)
    await set_config(container, cash_payment_enabled=False)
    r = await client.post(f"{API}/orders/{order['id']}/payment/switch-to-cash", headers=bearer(me))
    assert_error(r, 409, "PAYMENT_METHOD_DISABLED")
    assert (await _order(client, me, order["id"]))["payment_method"] == "upi"


async def test_timeout_sweep_cancels_unpaid_orders(client, container, clock):
    me, order = await _upi_order(client, container)
    await expire_unpaid(container)
    assert (await _order(client, me, order["id"]))["status"] == "received"  # not yet due
    clock.advance(301)
    await expire_unpaid(container)
    final = await _order(client, me, order["id"])
    assert final["status"] == "cancelled" and final["cancel_reason"] == "payment_timeout"


async def test_timeout_sweep_confirms_an_order_paid_after_all(
    client, container, clock, razorpay_sandbox
):
    """The money arrived but neither verify nor the webhook did: the sweep asks first."""
    me, order = await _upi_order(client, container)
    sandbox_pay(razorpay_sandbox, order["payment"]["gateway_order_id"], "success")
    clock.advance(301)
    await expire_unpaid(container)
    final = await _order(client, me, order["id"])
    assert final["status"] == "confirmed" and final["payment_status"] == "captured"


async def test_timeout_sweep_cancels_nothing_while_the_gateway_cannot_answer(
    client, container, clock, settings, razorpay_sandbox
):
    """Unreachable gateway: whether the money arrived is unknown, so no order is cancelled;
    once it answers, the sweep settles each order (one paid after all, one not)."""
    from canteen.payments.factory import build_gateway

    m = await seed_menu(container)
    me, paid_late = await _upi_order(client, container, m=m)
    _, unpaid = await _upi_order(client, container, me=me, m=m)
    sandbox_pay(razorpay_sandbox, paid_late["payment"]["gateway_order_id"], "success")
    clock.advance(301)
    reachable = container.gateway
    container._gateway = build_gateway(
        settings.model_copy(update={"razorpay_base_url": "http://127.0.0.1:9"})
    )
    events_before = await count_rows(container, Event)
    await expire_unpaid(container)
    for order in (paid_late, unpaid):
        assert (await _order(client, me, order["id"]))["status"] == "received"
    assert await count_rows(container, Event) == events_before  # nothing written

    container._gateway = reachable
    await expire_unpaid(container)
    assert (await _order(client, me, paid_late["id"]))["status"] == "confirmed"
    assert (await _order(client, me, unpaid["id"]))["status"] == "cancelled"


async def test_late_payment_after_the_timeout_is_refunded(
    app, client, container, clock, razorpay_sandbox, webhooks_to
):
    me, order = await _upi_order(client, container)
    clock.advance(301)
    await expire_unpaid(container)
    assert (await _order(client, me, order["id"]))["status"] == "cancelled"
    async with serve(app) as host:
        webhooks_to(host)
        paid = sandbox_pay(razorpay_sandbox, order["payment"]["gateway_order_id"], "success")
        r = await client.post(
            f"{API}/payments/verify", json={"order_id": order["id"], **paid}, headers=bearer(me)
        )
        assert r.status_code == 200 and r.json()["data"]["status"] == "cancelled"

        async def refunded() -> bool:
            return (await _order(client, me, order["id"]))["payment_status"] == "refunded"

        await eventually(refunded)
    final = await _order(client, me, order["id"])
    assert final["refund"]["status"] == "processed" and final["refund"]["amount"] == order["total"]


async def test_cancelling_a_paid_order_refunds_it(
    app, client, container, razorpay_sandbox, webhooks_to
):
    me, order = await _upi_order(client, container)
    paid = sandbox_pay(razorpay_sandbox, order["payment"]["gateway_order_id"], "success")
    await client.post(
        f"{API}/payments/verify", json={"order_id": order["id"], **paid}, headers=bearer(me)
    )
    async with serve(app) as host:
        webhooks_to(host)
        r = await client.post(
            f"{API}/orders/{order['id']}/cancel",
            json={"reason": "class got extended"},
            headers=bearer(me),
        )
        assert r.status_code == 200, r.text

        async def refunded() -> bool:
            return (await _order(client, me, order["id"]))["payment_status"] == "refunded"

        await eventually(refunded)
    final = await _order(client, me, order["id"])
    assert final["refund"] == {
        "status": "processed",
        "amount": order["total"],
        "reason": "class got extended",
    }
    assert await count_rows(container, Refund) == 1
    gw_payment = razorpay_sandbox.sandbox.payment(paid["razorpay_payment_id"])
    assert gw_payment["amount_refunded"] == order["total"]
    async with container.sessionmaker() as s:
        from sqlalchemy import select

        assert (await s.scalars(select(Payment))).one().status == "refunded"


async def test_a_capture_racing_another_never_refunds_the_order(
    client, container, razorpay_sandbox
):
    """The webhook job read the payment before the client's verify committed: after the
    lock it must see the capture, not its stale copy (found by the lunch-rush benchmark)."""
    from sqlalchemy import select

    from canteen.payments import capture

    me, order = await _upi_order(client, container)
    gw = order["payment"]["gateway_order_id"]
    paid = sandbox_pay(razorpay_sandbox, gw, "success")
    async with container.sessionmaker() as stale:
        # Held, as the job holds it: the session's identity map keeps only live objects.
        stale_copy = await stale.scalar(select(Payment).where(Payment.gateway_order_id == gw))
        await stale.commit()  # the stale copy stays in the session (expire_on_commit=False)
        r = await client.post(
            f"{API}/payments/verify", json={"order_id": order["id"], **paid}, headers=bearer(me)
        )
        assert r.json()["data"]["status"] == "confirmed"
        outcome = await capture.capture_by_gateway_order(
            container, stale, gw, paid["razorpay_payment_id"]
        )
        await stale.commit()
    assert outcome == "already captured"
    assert stale_copy.status == "captured"
    final = await _order(client, me, order["id"])
    assert final["payment_status"] == "captured" and final["refund"] is None
    assert await _events(container, order["id"]) == [
        ("order.created", "received"),
        ("order.status_changed", "confirmed"),
    ]


# ---- issue 14, point 2: a declined payment never strands the student --------------------


async def _ws_recv(ws: Any, timeout: float = 10.0) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def test_a_declined_payment_reaches_the_socket_with_what_to_do_next(
    app, client, container, razorpay_sandbox, webhooks_to
):
    me, order = await _upi_order(client, container)
    gw = order["payment"]["gateway_order_id"]
    assert order["payment"]["status"] == "created"
    assert order["payment"]["failure_reason"] is None
    async with serve(app) as host:
        webhooks_to(host)
        url = f"ws://{host}{API}/ws/orders/{order['id']}?token={me['access_token']}"
        async with websockets.connect(url) as ws:
            snapshot = await _ws_recv(ws)
            assert snapshot["type"] == "order.snapshot"
            payment = snapshot["order"]["payment"]
            assert payment is not None, snapshot  # it used to be null
            assert payment["status"] == "created" and payment["checkout_url"]

            sandbox_pay(razorpay_sandbox, gw, "failure")
            update = await _ws_recv(ws)
            assert update["type"] == "order.payment_updated"
            assert update["payment_status"] == "failed"
            assert update["data"]["payment"]["status"] == "failed"
            assert update["data"]["payment"]["failure_reason"]

        # Reload: the snapshot says failed, with the reason and the page to try again.
        async with websockets.connect(url) as ws:
            snapshot = await _ws_recv(ws)
        assert snapshot["payment_status"] == "failed"
        payment = snapshot["order"]["payment"]
        assert payment["status"] == "failed" and payment["failure_reason"]
        assert payment["checkout_url"]

        # GET says the same.
        seen = (await client.get(f"{API}/orders/{order['id']}", headers=bearer(me))).json()
        assert seen["data"]["payment"]["status"] == "failed"

        # Pay cash instead: confirmed, cash due, no UPI page any more.
        r = await client.post(
            f"{API}/orders/{order['id']}/payment/switch-to-cash", headers=bearer(me)
        )
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert (data["status"], data["payment_status"], data["payment"]) == (
            "confirmed",
            "cash_due",
            None,
        )

        async def settled() -> bool:
            got = await client.get(f"{API}/orders/{order['id']}", headers=bearer(me))
            return got.json()["data"]["payment_method"] == "cash"

        await eventually(settled)
