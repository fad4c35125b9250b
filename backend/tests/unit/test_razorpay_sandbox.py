"""The local Razorpay sandbox: API wire format, checkout, webhooks, refunds.

The sandbox runs in uvicorn on a random port; webhooks go to a small stdlib HTTP receiver
that records what arrives and answers from a script (status, delay).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from canteen.payments.razorpay_gateway import RazorpayGateway
from canteen_sandbox import SandboxServer

ID = {
    "order": re.compile(r"^order_[0-9A-Za-z]{14}$"),
    "pay": re.compile(r"^pay_[0-9A-Za-z]{14}$"),
    "rfnd": re.compile(r"^rfnd_[0-9A-Za-z]{14}$"),
}
CALLBACK = "https://app.example.test/payments/return?from=checkout"


# --- webhook receiver ---------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # lower-cased names
    body: bytes
    answered: int

    @property
    def event(self) -> str:
        name: str = json.loads(self.body)["event"]
        return name

    @property
    def event_id(self) -> str:
        return self.headers["x-razorpay-event-id"]


class Receiver:
    """Records every POST; answers from `script` (status, delay seconds), then 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: deque[tuple[int, float]] = deque()
        self.always: int | None = None
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    status, delay = (
                        receiver.script.popleft()
                        if receiver.script
                        else (receiver.always or 200, 0.0)
                    )
                    receiver.received.append(
                        Received({k.lower(): v for k, v in self.headers.items()}, body, status)
                    )
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sandbox gave up waiting (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/razorpay"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def accepted(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.answered < 300]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def start_sandbox(receiver: Receiver | None, **options: Any) -> SandboxServer:
    options = {"webhook_retry_delay": 0.05, "refund_processing_delay": 0.05, **options}
    return SandboxServer(webhook_url=receiver.url if receiver else None, **options).start()


@pytest.fixture
def server(receiver: Receiver) -> Iterator[SandboxServer]:
    running = start_sandbox(receiver)
    yield running
    running.stop()


@pytest.fixture
async def http(server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=server.base_url,
        auth=(server.key_id, server.key_secret),
        trust_env=False,
        follow_redirects=False,
    ) as client:
        yield client


def gateway_for(server: SandboxServer) -> RazorpayGateway:
    return RazorpayGateway(
        server.key_id, server.key_secret, server.webhook_secret, base_url=server.base_url
    )


async def new_order(http: httpx.AsyncClient, amount: int = 5_000, **fields: Any) -> dict[str, Any]:
    response = await http.post("/v1/orders", json={"amount": amount, "currency": "INR", **fields})
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


async def sandbox_pay(http: httpx.AsyncClient, order_id: str, outcome: str) -> dict[str, Any]:
    response = await http.post("/sandbox/pay", json={"order_id": order_id, "outcome": outcome})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def settle(http: httpx.AsyncClient, payment_id: str, outcome: str) -> httpx.Response:
    return await http.post(f"/sandbox/payments/{payment_id}/settle", json={"outcome": outcome})


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def events_for(receiver: Receiver, payment_id: str) -> list[Received]:
    return [
        r
        for r in receiver.accepted()
        if json.loads(r.body)["payload"]["payment"]["entity"]["id"] == payment_id
    ]


# --- Orders API ---------------------------------------------------------------------------


async def test_create_order_returns_razorpay_order_entity(http: httpx.AsyncClient) -> None:
    order = await new_order(http, 12_345, receipt="canteen-7")
    fetched = (await http.get(f"/v1/orders/{order['id']}")).json()

    assert ID["order"].match(order["id"])
    assert {k: v for k, v in order.items() if k not in ("id", "created_at")} == {
        "entity": "order",
        "amount": 12_345,
        "amount_paid": 0,
        "amount_due": 12_345,
        "currency": "INR",
        "receipt": "canteen-7",
        "offer_id": None,
        "status": "created",
        "attempts": 0,
        "notes": [],  # Razorpay's empty notes are a JSON list
    }
    assert isinstance(order["created_at"], int) and abs(order["created_at"] - time.time()) < 60
    assert fetched == order


@pytest.mark.parametrize("auth", [None, ("rzp_test_canteensandbox", "wrong"), ("other", "x")])
async def test_api_requires_basic_auth(server: SandboxServer, auth: tuple[str, str] | None) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, auth=auth, trust_env=False) as client:
        response = await client.post("/v1/orders", json={"amount": 500, "currency": "INR"})

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": "Authentication failed",
            "source": "NA",
            "step": "NA",
            "reason": "NA",
            "metadata": {},
            "field": None,
        }
    }


@pytest.mark.parametrize(
    ("body", "field", "description"),
    [
        ({"amount": 99, "currency": "INR"}, "amount", "The amount must be at least INR 1.00"),
        ({"amount": "500", "currency": "INR"}, "amount", "The amount must be an integer."),
        ({"amount": 500.0, "currency": "INR"}, "amount", "The amount must be an integer."),
        ({"currency": "INR"}, "amount", "The amount field is required."),
        ({"amount": 500, "currency": "RUPEE"}, "currency", None),
        ({"amount": 500}, "currency", None),
        ({"amount": 500, "currency": "INR", "receipt": "r" * 41}, "receipt", None),
        (
            {"amount": 500, "currency": "INR", "notes": {str(i): "v" for i in range(16)}},
            "notes",
            None,
        ),
        ({"amount": 500, "currency": "INR", "notes": {"k": "v" * 257}}, "notes", None),
    ],
)
async def test_order_validation_matches_razorpay(
    http: httpx.AsyncClient, body: dict[str, Any], field: str, description: str | None
) -> None:
    response = await http.post("/v1/orders", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"], error["reason"]) == (
        "BAD_REQUEST_ERROR",
        field,
        "input_validation_failed",
    )
    if description is not None:
        assert error["description"] == description


async def test_order_limits_are_inclusive(http: httpx.AsyncClient) -> None:
    notes = {f"k{i}": "v" * 256 for i in range(15)}

    order = await new_order(http, 100, receipt="r" * 40, notes=notes)

    assert (order["amount"], order["notes"]) == (100, notes)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/orders/order_00000000000000"),
        ("GET", "/v1/orders/order_00000000000000/payments"),
        ("GET", "/v1/payments/pay_00000000000000"),
        ("POST", "/v1/payments/pay_00000000000000/refund"),
        ("GET", "/v1/refunds/rfnd_00000000000000"),
    ],
)
async def test_unknown_ids_are_400_not_404(http: httpx.AsyncClient, method: str, path: str) -> None:
    response = await http.request(method, path, json={} if method == "POST" else None)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["description"]) == (
        "BAD_REQUEST_ERROR",
        "The id provided does not exist",
    )


async def test_unknown_url_gets_a_razorpay_error_body(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/nothing-here")

    assert response.json()["error"]["code"] == "BAD_REQUEST_ERROR"


async def test_order_payments_is_a_collection_newest_first(http: httpx.AsyncClient) -> None:
    order = await new_order(http)
    first = await sandbox_pay(http, order["id"], "failure")
    second = await sandbox_pay(http, order["id"], "success")

    listed = (await http.get(f"/v1/orders/{order['id']}/payments")).json()
    fetched = (await http.get(f"/v1/orders/{order['id']}")).json()

    assert (listed["entity"], listed["count"]) == ("collection", 2)
    assert [p["id"] for p in listed["items"]] == [
        second["razorpay_payment_id"],
        first["error"]["metadata"]["payment_id"],
    ]
    assert (fetched["status"], fetched["attempts"], fetched["amount_due"]) == ("paid", 2, 0)


# --- hosted checkout ------------------------------------------------------------------------


async def test_checkout_page_shows_order_and_three_outcomes(http: httpx.AsyncClient) -> None:
    order = await new_order(http, 12_050, receipt="<b>canteen & co</b>")

    page = await http.get(f"/checkout/{order['id']}", params={"callback_url": CALLBACK})

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert '<html lang="en">' in text and "<title>" in text and "<main>" in text
    assert "₹120.50" in text
    assert "&lt;b&gt;canteen &amp; co&lt;/b&gt;" in text and "<b>canteen" not in text
    assert f'action="{order["id"]}/complete"' in text
    assert f'value="{CALLBACK.replace("&", "&amp;")}"' in text
    for label, outcome in [
        ("Pay successfully", "success"),
        ("Fail payment", "failure"),
        ("Leave pending", "pending"),
    ]:
        assert f'name="outcome" value="{outcome}">{label}</button>' in text
    assert "<legend>" in text


async def test_checkout_success_redirects_with_a_valid_signature(
    server: SandboxServer, http: httpx.AsyncClient
) -> None:
    order = await new_order(http)

    response = await http.post(
        f"/checkout/{order['id']}/complete", data={"outcome": "success", "callback_url": CALLBACK}
    )

    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("https://app.example.test/payments/return?")
    params = query_of(location)
    assert set(params) == {
        "from",
        "razorpay_payment_id",
        "razorpay_order_id",
        "razorpay_signature",
    }
    assert params["from"] == "checkout"  # the callback's own query survives
    assert params["razorpay_order_id"] == order["id"]
    assert ID["pay"].match(params["razorpay_payment_id"])
    gateway = gateway_for(server)
    assert gateway.verify_payment_signature(
        order["id"], params["razorpay_payment_id"], params["razorpay_signature"]
    )
    payment = (await http.get(f"/v1/payments/{params['razorpay_payment_id']}")).json()
    assert (payment["status"], payment["captured"], payment["method"]) == ("captured", True, "upi")


async def test_checkout_failure_redirects_with_razorpay_error_fields(
    http: httpx.AsyncClient,
) -> None:
    order = await new_order(http)

    response = await http.post(
        f"/checkout/{order['id']}/complete", data={"outcome": "failure", "callback_url": CALLBACK}
    )

    assert response.status_code == 303
    params = query_of(response.headers["location"])
    payment_id = params["error[metadata][payment_id]"]
    assert params["error[code]"] == "BAD_REQUEST_ERROR"
    assert params["error[description]"] == "Payment failed"
    assert params["error[reason]"] == "payment_failed"
    assert params["error[metadata][order_id]"] == order["id"]
    assert "razorpay_signature" not in params
    payment = (await http.get(f"/v1/payments/{payment_id}")).json()
    assert (payment["status"], payment["error_code"]) == ("failed", "BAD_REQUEST_ERROR")
    assert (await http.get(f"/v1/orders/{order['id']}")).json()["status"] == "attempted"


async def test_checkout_pending_redirects_with_status_pending(
    http: httpx.AsyncClient, server: SandboxServer
) -> None:
    order = await new_order(http)

    response = await http.post(
        f"/checkout/{order['id']}/complete", data={"outcome": "pending", "callback_url": CALLBACK}
    )

    assert response.status_code == 303
    params = query_of(response.headers["location"])
    assert params == {"from": "checkout", "status": "pending", "razorpay_order_id": order["id"]}
    [payment] = (await http.get(f"/v1/orders/{order['id']}/payments")).json()["items"]
    assert (payment["status"], payment["captured"]) == ("created", False)
    await server.sandbox.drain()
    assert server.sandbox.events == []  # nothing happened yet that Razorpay would announce


async def test_checkout_refuses_unknown_orders_unsafe_callbacks_and_paid_orders(
    http: httpx.AsyncClient,
) -> None:
    order = await new_order(http)
    unknown = await http.get("/checkout/order_00000000000000")
    unsafe = await http.get(
        f"/checkout/{order['id']}", params={"callback_url": "javascript:alert(1)"}
    )
    unsafe_post = await http.post(
        f"/checkout/{order['id']}/complete",
        data={"outcome": "success", "callback_url": "javascript:alert(1)"},
    )
    await sandbox_pay(http, order["id"], "success")
    paid_page = await http.get(f"/checkout/{order['id']}")
    paid_post = await http.post(
        f"/checkout/{order['id']}/complete", data={"outcome": "success", "callback_url": CALLBACK}
    )

    assert unknown.status_code == 404
    assert unsafe.status_code == 400 and unsafe_post.status_code == 400
    assert paid_page.status_code == 200
    assert "already been paid" in paid_page.text and "<button" not in paid_page.text
    assert paid_post.status_code == 400
    assert len((await http.get(f"/v1/orders/{order['id']}/payments")).json()["items"]) == 1


# --- JSON twin ------------------------------------------------------------------------------


async def test_sandbox_pay_success_failure_pending(
    server: SandboxServer, http: httpx.AsyncClient
) -> None:
    gateway = gateway_for(server)
    success = await sandbox_pay(http, (await new_order(http))["id"], "success")
    failure = await sandbox_pay(http, (await new_order(http))["id"], "failure")
    pending_order = await new_order(http)
    pending = await sandbox_pay(http, pending_order["id"], "pending")

    assert set(success) == {"razorpay_payment_id", "razorpay_order_id", "razorpay_signature"}
    assert gateway.verify_payment_signature(
        success["razorpay_order_id"], success["razorpay_payment_id"], success["razorpay_signature"]
    )
    assert set(failure["error"]) >= {"code", "description", "reason", "metadata"}
    assert ID["pay"].match(failure["error"]["metadata"]["payment_id"])
    assert pending["status"] == "pending"
    assert pending["razorpay_order_id"] == pending_order["id"]
    assert ID["pay"].match(pending["razorpay_payment_id"])


async def test_sandbox_pay_rejects_bad_requests(http: httpx.AsyncClient) -> None:
    order = await new_order(http)
    await sandbox_pay(http, order["id"], "success")

    paid = await http.post("/sandbox/pay", json={"order_id": order["id"], "outcome": "success"})
    unknown = await http.post(
        "/sandbox/pay", json={"order_id": "order_00000000000000", "outcome": "success"}
    )
    bad_outcome = await http.post("/sandbox/pay", json={"order_id": order["id"], "outcome": "x"})

    assert [r.status_code for r in (paid, unknown, bad_outcome)] == [400, 400, 400]
    assert "already been paid" in paid.json()["error"]["description"]


# --- webhooks -------------------------------------------------------------------------------


async def test_success_sends_signed_webhooks_in_sequence(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    gateway = gateway_for(server)
    order = await new_order(http, receipt="canteen-9")
    payment_id = (await sandbox_pay(http, order["id"], "success"))["razorpay_payment_id"]

    await server.sandbox.drain()

    received = receiver.received
    assert [r.event for r in received] == ["payment.authorized", "payment.captured", "order.paid"]
    assert len({r.event_id for r in received}) == 3
    for r in received:
        assert gateway.verify_webhook_signature(r.body, r.headers["x-razorpay-signature"])
        assert r.headers["content-type"] == "application/json"
        envelope = json.loads(r.body)
        assert list(envelope) == [
            "entity",
            "account_id",
            "event",
            "contains",
            "payload",
            "created_at",
        ]
        assert envelope["entity"] == "event"
        assert envelope["account_id"] == server.sandbox.account_id
        assert envelope["payload"]["payment"]["entity"]["id"] == payment_id
    authorized, captured, paid = (json.loads(r.body) for r in received)
    assert authorized["contains"] == ["payment"]
    assert authorized["payload"]["payment"]["entity"]["status"] == "authorized"
    assert authorized["payload"]["payment"]["entity"]["captured"] is False
    assert captured["payload"]["payment"]["entity"]["status"] == "captured"
    assert captured["payload"]["payment"]["entity"]["captured"] is True
    assert paid["contains"] == ["payment", "order"]
    order_entity = paid["payload"]["order"]["entity"]
    assert (order_entity["id"], order_entity["status"]) == (order["id"], "paid")
    assert (order_entity["amount_paid"], order_entity["amount_due"]) == (5_000, 0)
    assert order_entity["receipt"] == "canteen-9"


async def test_webhook_signed_with_another_secret_does_not_verify(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    other = RazorpayGateway(server.key_id, server.key_secret, "some-other-webhook-secret")
    await sandbox_pay(http, (await new_order(http))["id"], "success")
    await server.sandbox.drain()

    assert receiver.received
    for r in receiver.received:
        assert not other.verify_webhook_signature(r.body, r.headers["x-razorpay-signature"])


async def test_failed_delivery_is_retried_with_the_same_event_id(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.script.append((500, 0.0))
    await sandbox_pay(http, (await new_order(http))["id"], "success")

    await server.sandbox.drain()

    first, *rest = receiver.received
    retries = [r for r in rest if r.event_id == first.event_id]
    assert (first.event, first.answered) == ("payment.authorized", 500)
    assert len(retries) == 1
    assert retries[0].body == first.body and retries[0].answered == 200
    assert retries[0].headers["x-razorpay-signature"] == first.headers["x-razorpay-signature"]
    assert sorted(r.event for r in receiver.accepted()) == [
        "order.paid",
        "payment.authorized",
        "payment.captured",
    ]
    attempts = [a for a in server.sandbox.webhook_attempts if a.event_id == first.event_id]
    assert [(a.attempt, a.status_code) for a in attempts] == [(1, 500), (2, 200)]


async def test_slow_receiver_counts_as_failure_and_is_retried(receiver: Receiver) -> None:
    receiver.script.append((200, 1.0))  # answers, but after the sandbox stopped waiting
    server = start_sandbox(receiver, webhook_timeout=0.3)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client:
            order = (
                await client.post(
                    "/v1/orders",
                    json={"amount": 500, "currency": "INR"},
                    auth=(server.key_id, server.key_secret),
                )
            ).json()
            await client.post("/sandbox/pay", json={"order_id": order["id"], "outcome": "success"})
        await server.sandbox.drain()
        attempts = server.sandbox.webhook_attempts
    finally:
        server.stop()

    authorized = [a for a in attempts if a.event == "payment.authorized"]
    assert [a.attempt for a in authorized] == [1, 2]
    assert authorized[0].status_code is None and authorized[0].error is not None
    assert "Timeout" in authorized[0].error
    assert authorized[1].ok and authorized[1].event_id == authorized[0].event_id


async def test_retries_are_bounded(receiver: Receiver) -> None:
    receiver.always = 503
    server = start_sandbox(receiver, webhook_max_attempts=3)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client:
            order = (
                await client.post(
                    "/v1/orders",
                    json={"amount": 500, "currency": "INR"},
                    auth=(server.key_id, server.key_secret),
                )
            ).json()
            await client.post("/sandbox/pay", json={"order_id": order["id"], "outcome": "failure"})
        await server.sandbox.drain()
    finally:
        server.stop()

    assert [r.event for r in receiver.received] == ["payment.failed"] * 3
    assert len({r.event_id for r in receiver.received}) == 1


async def test_api_call_does_not_wait_for_webhook_delivery(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.script.append((200, 1.5))
    order = await new_order(http)

    started = time.monotonic()
    await sandbox_pay(http, order["id"], "success")
    elapsed = time.monotonic() - started

    assert elapsed < 1.0
    await server.sandbox.drain()
    assert len(receiver.accepted()) == 3


async def test_no_webhook_url_still_records_events() -> None:
    server = start_sandbox(None)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client:
            order = (
                await client.post(
                    "/v1/orders",
                    json={"amount": 500, "currency": "INR"},
                    auth=(server.key_id, server.key_secret),
                )
            ).json()
            await client.post("/sandbox/pay", json={"order_id": order["id"], "outcome": "success"})
        await server.sandbox.drain(max_wait=1)
        events, attempts = server.sandbox.events, server.sandbox.webhook_attempts
    finally:
        server.stop()

    assert [e.event for e in events] == ["payment.authorized", "payment.captured", "order.paid"]
    assert attempts == []


async def test_duplicate_next_webhook_delivers_the_same_event_twice(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    server.sandbox.duplicate_next_webhook()
    await sandbox_pay(http, (await new_order(http))["id"], "success")

    await server.sandbox.drain()

    events = [r.event for r in receiver.accepted()]
    assert events == ["payment.authorized", "payment.authorized", "payment.captured", "order.paid"]
    first, second = receiver.received[:2]
    assert first.event_id == second.event_id and first.body == second.body


async def test_reorder_next_webhooks_swaps_two_events(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    server.sandbox.reorder_next_webhooks()
    await sandbox_pay(http, (await new_order(http))["id"], "success")

    await server.sandbox.drain()

    assert [r.event for r in receiver.accepted()] == [
        "payment.captured",
        "payment.authorized",
        "order.paid",
    ]


async def test_pending_payment_settled_as_captured_later(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    order = await new_order(http)
    payment_id = (await sandbox_pay(http, order["id"], "pending"))["razorpay_payment_id"]
    await server.sandbox.drain()
    assert receiver.received == []

    response = await settle(http, payment_id, "captured")
    await server.sandbox.drain()

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["captured"]) == ("captured", True)
    assert [r.event for r in events_for(receiver, payment_id)] == [
        "payment.authorized",
        "payment.captured",
        "order.paid",
    ]
    assert (await http.get(f"/v1/orders/{order['id']}")).json()["status"] == "paid"


async def test_pending_payment_settled_as_failed(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    order = await new_order(http)
    payment_id = (await sandbox_pay(http, order["id"], "pending"))["razorpay_payment_id"]

    response = await settle(http, payment_id, "failed")
    await server.sandbox.drain()

    assert response.json()["status"] == "failed"
    assert [r.event for r in receiver.accepted()] == ["payment.failed"]
    assert (await http.get(f"/v1/orders/{order['id']}")).json()["status"] == "attempted"


async def test_failed_then_captured_as_upi_late_authorisation(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    gateway = gateway_for(server)
    order = await new_order(http)
    failure = await sandbox_pay(http, order["id"], "failure")
    payment_id = failure["error"]["metadata"]["payment_id"]

    await settle(http, payment_id, "captured")
    await server.sandbox.drain()

    assert [r.event for r in events_for(receiver, payment_id)] == [
        "payment.failed",
        "payment.authorized",
        "payment.captured",
        "order.paid",
    ]
    payment = await gateway.fetch_payment(payment_id)
    assert (payment.status, payment.captured, payment.error_code) == ("captured", True, None)
    assert (await gateway.fetch_order(order["id"])).status == "paid"


@pytest.mark.parametrize(
    ("first", "then"), [("success", "failed"), ("success", "captured"), ("failure", "failed")]
)
async def test_settle_rejects_impossible_transitions(
    http: httpx.AsyncClient, first: str, then: str
) -> None:
    result = await sandbox_pay(http, (await new_order(http))["id"], first)
    payment_id = result.get("razorpay_payment_id") or result["error"]["metadata"]["payment_id"]

    response = await settle(http, payment_id, then)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST_ERROR"


# --- refunds ----------------------------------------------------------------------------------


async def paid_payment(http: httpx.AsyncClient, amount: int = 10_000) -> str:
    order = await new_order(http, amount)
    payment_id: str = (await sandbox_pay(http, order["id"], "success"))["razorpay_payment_id"]
    return payment_id


async def refund(
    http: httpx.AsyncClient, payment_id: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = {"X-Refund-Idempotency": key} if key is not None else {}
    return await http.post(f"/v1/payments/{payment_id}/refund", json=body, headers=headers)


async def test_refund_is_pending_then_processed_with_webhook(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    gateway = gateway_for(server)
    payment_id = await paid_payment(http)

    response = await refund(
        http, payment_id, {"amount": 4_000, "notes": {"r": "x"}}, "rf-key-000001"
    )
    created = response.json()
    await server.sandbox.drain()
    processed = (await http.get(f"/v1/refunds/{created['id']}")).json()
    payment = (await http.get(f"/v1/payments/{payment_id}")).json()

    assert response.status_code == 200
    assert ID["rfnd"].match(created["id"])
    assert (created["entity"], created["status"], created["amount"]) == ("refund", "pending", 4_000)
    assert (created["payment_id"], created["currency"]) == (payment_id, "INR")
    assert processed["status"] == "processed"
    assert (payment["amount_refunded"], payment["refund_status"]) == (4_000, "partial")
    assert payment["status"] == "captured"
    [webhook] = [r for r in receiver.accepted() if r.event == "refund.processed"]
    assert gateway.verify_webhook_signature(webhook.body, webhook.headers["x-razorpay-signature"])
    envelope = json.loads(webhook.body)
    assert envelope["contains"] == ["refund", "payment"]
    assert envelope["payload"]["refund"]["entity"]["id"] == created["id"]
    assert envelope["payload"]["refund"]["entity"]["status"] == "processed"
    assert envelope["payload"]["payment"]["entity"]["amount_refunded"] == 4_000


async def test_refund_idempotency_key_semantics(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    payment_id = await paid_payment(http)
    key = "order-42_refund-1"

    first = await refund(http, payment_id, {"amount": 1_000}, key)
    same = await refund(http, payment_id, {"amount": 1_000}, key)
    different = await refund(http, payment_id, {"amount": 2_000}, key)
    short = await refund(http, payment_id, {"amount": 1_000}, "short-key")
    bad_chars = await refund(http, payment_id, {"amount": 1_000}, "has spaces in it!")
    await server.sandbox.drain()

    assert first.status_code == same.status_code == 200
    assert same.json()["id"] == first.json()["id"]
    assert different.status_code == 409
    assert different.json()["error"]["description"] == (
        "Different request with the same idempotency key has already been processed."
    )
    assert short.status_code == bad_chars.status_code == 400
    assert (await http.get(f"/v1/payments/{payment_id}")).json()["amount_refunded"] == 1_000
    assert [r.event for r in receiver.accepted()].count("refund.processed") == 1


async def test_refund_without_amount_refunds_everything_left(http: httpx.AsyncClient) -> None:
    payment_id = await paid_payment(http, 10_000)
    await refund(http, payment_id, {"amount": 3_000})

    rest = await refund(http, payment_id, {})
    again = await refund(http, payment_id, {})
    payment = (await http.get(f"/v1/payments/{payment_id}")).json()

    assert (rest.status_code, rest.json()["amount"]) == (200, 7_000)
    assert again.status_code == 400
    assert (payment["status"], payment["refund_status"], payment["amount_refunded"]) == (
        "refunded",
        "full",
        10_000,
    )


async def test_refund_rules(http: httpx.AsyncClient) -> None:
    payment_id = await paid_payment(http, 10_000)
    pending_order = await new_order(http)
    pending = await sandbox_pay(http, pending_order["id"], "pending")

    too_much = await refund(http, payment_id, {"amount": 10_001})
    too_little = await refund(http, payment_id, {"amount": 99})
    bad_speed = await refund(http, payment_id, {"amount": 1_000, "speed": "instant"})
    uncaptured = await refund(http, pending["razorpay_payment_id"], {})

    assert [r.status_code for r in (too_much, too_little, bad_speed, uncaptured)] == [400] * 4
    assert too_much.json()["error"]["field"] == "amount"
    assert (await http.get(f"/v1/payments/{payment_id}")).json()["amount_refunded"] == 0


async def test_failed_refund_fires_refund_failed_and_restores_the_payment(
    server: SandboxServer, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    payment_id = await paid_payment(http, 10_000)
    server.sandbox.fail_next_refund()

    created = (await refund(http, payment_id, {"amount": 10_000}, "rf-key-fails-1")).json()
    await server.sandbox.drain()

    assert created["status"] == "pending"
    assert (await http.get(f"/v1/refunds/{created['id']}")).json()["status"] == "failed"
    payment = (await http.get(f"/v1/payments/{payment_id}")).json()
    assert (payment["status"], payment["amount_refunded"], payment["refund_status"]) == (
        "captured",
        0,
        None,
    )
    events = [r.event for r in receiver.accepted()]
    assert "refund.failed" in events and "refund.processed" not in events


# --- standalone -------------------------------------------------------------------------------


def test_runs_standalone_with_keys_from_the_environment() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "CANTEEN_RAZORPAY_KEY_ID": "rzp_test_fromenv",
        "CANTEEN_RAZORPAY_KEY_SECRET": "env-secret",
        "CANTEEN_RAZORPAY_WEBHOOK_SECRET": "env-webhook-secret",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "canteen_sandbox", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                index = httpx.get(base + "/", trust_env=False)
                break
            except httpx.ConnectError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "sandbox did not start"
                time.sleep(0.1)
        created = httpx.post(
            base + "/v1/orders",
            json={"amount": 500, "currency": "INR"},
            auth=("rzp_test_fromenv", "env-secret"),
            trust_env=False,
        )
        default_keys = httpx.post(
            base + "/v1/orders",
            json={"amount": 500, "currency": "INR"},
            auth=("rzp_test_canteensandbox", "sandbox_key_secret_change_me"),
            trust_env=False,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert index.json()["key_id"] == "rzp_test_fromenv"
    assert index.json()["public_url"] == base
    assert created.status_code == 200
    assert default_keys.status_code == 401


async def test_unusable_webhook_url_fails_attempts_without_stopping_delivery(
    receiver: Receiver,
) -> None:
    server = start_sandbox(None, webhook_max_attempts=2)
    try:
        # httpx rejects this URL with InvalidURL, which is not an httpx.HTTPError.
        server.sandbox.webhook_url = "http://" + "a" * 70_000
        async with httpx.AsyncClient(
            base_url=server.base_url, auth=(server.key_id, server.key_secret), trust_env=False
        ) as client:
            first = await new_order(client)
            await sandbox_pay(client, first["id"], "failure")
            await server.sandbox.drain()
            server.sandbox.webhook_url = receiver.url
            second = await new_order(client)
            await sandbox_pay(client, second["id"], "failure")
            await server.sandbox.drain()
        attempts = server.sandbox.webhook_attempts
    finally:
        server.stop()

    assert [a.ok for a in attempts] == [False, False, True]
    assert attempts[0].error is not None
    assert [r.event for r in receiver.accepted()] == ["payment.failed"]


def test_console_script_runs_the_same_program() -> None:
    script = os.path.join(os.path.dirname(sys.executable), "canteen-razorpay-sandbox")
    done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Local Razorpay-compatible sandbox" in done.stdout


# --- mounted in the API process (development and tests only) ----------------------------------


def _mounts(app: Any) -> list[str]:
    from starlette.routing import Mount

    return [route.path for route in app.routes if isinstance(route, Mount)]


def _dev_settings(tmp_path: Any) -> Any:
    from canteen.settings import Settings

    return Settings(env="test", data_dir=str(tmp_path), secret_key="x" * 48)


async def test_the_api_mounts_the_sandbox_in_development(tmp_path: Any) -> None:
    from canteen.app import create_app
    from canteen.payments.factory import SANDBOX_PATH

    app = create_app(_dev_settings(tmp_path))
    assert SANDBOX_PATH in _mounts(app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        index = await http.get(f"{SANDBOX_PATH}/")
    assert index.status_code == 200
    assert index.json()["service"] == "razorpay-sandbox"


async def test_without_the_sandbox_installed_the_api_starts_and_says_so(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from canteen.app import create_app
    from canteen.payments.factory import SANDBOX_PATH

    # None in sys.modules makes `import canteen_sandbox` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "canteen_sandbox", None)
    with caplog.at_level("WARNING", logger="canteen.payments"):
        app = create_app(_dev_settings(tmp_path))
    assert SANDBOX_PATH not in _mounts(app)
    assert any(
        "canteen-razorpay-sandbox" in r.getMessage() and r.levelname == "WARNING"
        for r in caplog.records
    )
    # Nothing answers there: the API's own 404, not a gateway that is half there.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        r = await http.post(f"{SANDBOX_PATH}/v1/orders", json={"amount": 500, "currency": "INR"})
    assert r.status_code == 404
    assert r.json() == {
        "error": {"code": "NOT_FOUND", "message": "No such resource", "details": []}
    }
