"""Razorpay gateway adapter: signature test vectors, and the official SDK against the sandbox."""

from __future__ import annotations

import importlib.metadata
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import razorpay

from canteen.payments.gateway import (
    GatewayBadRequest,
    GatewayError,
    PaymentGateway,
    payment_signature,
    webhook_signature,
)
from canteen.payments.razorpay_gateway import RazorpayGateway
from canteen_sandbox import SandboxServer

# razorpay-python tests/mocks/fake_payment_authorized_webhook.json, byte for byte (971 bytes,
# trailing newline); a copy is in the shared design fixtures.
WEBHOOK_FIXTURE = (
    b"{\n"
    b'  "event": "payment.authorized",\n'
    b'  "entity": "event",\n'
    b'  "contains": [\n'
    b'    "payment"\n'
    b"  ],\n"
    b'  "payload": {\n'
    b'    "payment": {\n'
    b'      "entity": {\n'
    b'        "id": "pay_6koWN7bvxujzxM",\n'
    b'        "entity": "payment",\n'
    b'        "amount": 1000000,\n'
    b'        "currency": "INR",\n'
    b'        "status": "captured",\n'
    b'        "order_id": "order_100000000order",\n'
    b'        "international": false,\n'
    b'        "method": "card",\n'
    b'        "amount_refunded": 0,\n'
    b'        "refund_status": null,\n'
    b'        "captured": true,\n'
    b'        "description": "random description",\n'
    b'        "card_id": "card_6koWNAT6LASUqy",\n'
    b'        "bank": null,\n'
    b'        "wallet": null,\n'
    b'        "vpa": null,\n'
    b'        "email": "a@b.com",\n'
    b'        "contact": "+919999999999",\n'
    b'        "notes": {\n'
    b'          "merchant_order_id": "random order id"\n'
    b"        },\n"
    b'        "fee": 23000,\n'
    b'        "service_tax": 3000,\n'
    b'        "error_code": null,\n'
    b'        "error_description": null,\n'
    b'        "created_at": 1479978483\n'
    b"      }\n"
    b"    }\n"
    b"  },\n"
    b'  "created_at": 1400826760\n'
    b"}\n"
)
PAYMENT_VECTOR = "b2335e3b0801106b84a7faff035df56ecffde06918c9ddd1f0fafbb37a51cc89"
WEBHOOK_VECTOR = "d60e67fd884556c045e9be7dad57903e33efc7172c17c6e3ef77db42d2b366e9"
WEBHOOK_VECTOR_NO_NEWLINE = "0971cde1d9216765d9aa72c766aef4a913fedfd2d36cc05cbca5de1ef90c12e4"


@pytest.fixture
def fixture_body() -> bytes:
    return WEBHOOK_FIXTURE


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(refund_processing_delay=0.05) as running:
        yield running


def gateway_for(server: SandboxServer, **kwargs: Any) -> RazorpayGateway:
    return RazorpayGateway(
        server.key_id, server.key_secret, server.webhook_secret, base_url=server.base_url, **kwargs
    )


async def pay(server: SandboxServer, order_id: str, outcome: str = "success") -> dict[str, Any]:
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.post(
            f"{server.base_url}/sandbox/pay", json={"order_id": order_id, "outcome": outcome}
        )
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def closed_port_url() -> str:
    # Bind then release a port so nothing is listening on it: connects are refused.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class CannedServer:
    """Answers every request with one fixed status and body (gateway-side failures)."""

    def __init__(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        canned = (status, body, content_type)

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(canned[0])
                self.send_header("Content-Type", canned[2])
                self.send_header("Content-Length", str(len(canned[1])))
                self.end_headers()
                self.wfile.write(canned[1])

            do_GET = do_POST = _reply

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- signatures: the integrations.md test vectors ---------------------------------------


def test_payment_signature_matches_razorpay_test_vector() -> None:
    gateway = RazorpayGateway("rzp_test_x", "key_secret", "webhook_secret")

    assert payment_signature("key_secret", "fake_order_id", "fake_payment_id") == PAYMENT_VECTOR
    assert gateway.verify_payment_signature("fake_order_id", "fake_payment_id", PAYMENT_VECTOR)


@pytest.mark.parametrize(
    ("order_id", "payment_id", "signature"),
    [
        ("fake_payment_id", "fake_order_id", PAYMENT_VECTOR),  # ids swapped
        ("fake_order_id", "fake_payment_id", PAYMENT_VECTOR[:-1] + "0"),  # one digit off
        ("fake_order_id", "fake_payment_id", PAYMENT_VECTOR.upper()),  # not Razorpay's hex
        ("fake_order_id", "fake_payment_id", ""),
        ("fake_order_id", "fake_payment_id", "é" * 64),  # non-ASCII must not raise
    ],
)
def test_payment_signature_rejects_anything_else(
    order_id: str, payment_id: str, signature: str
) -> None:
    gateway = RazorpayGateway("rzp_test_x", "key_secret", "webhook_secret")

    assert gateway.verify_payment_signature(order_id, payment_id, signature) is False


def test_payment_signature_uses_the_key_secret_not_the_webhook_secret() -> None:
    gateway = RazorpayGateway("rzp_test_x", "another_secret", "key_secret")

    assert not gateway.verify_payment_signature("fake_order_id", "fake_payment_id", PAYMENT_VECTOR)


def test_webhook_signature_is_over_the_raw_bytes(fixture_body: bytes) -> None:
    gateway = RazorpayGateway("rzp_test_x", "unrelated_key_secret", "key_secret")
    without_newline = fixture_body.rstrip(b"\n")
    reserialised = json.dumps(json.loads(fixture_body)).encode()

    assert len(fixture_body) == 971
    assert webhook_signature("key_secret", fixture_body) == WEBHOOK_VECTOR
    assert gateway.verify_webhook_signature(fixture_body, WEBHOOK_VECTOR)
    assert gateway.verify_webhook_signature(without_newline, WEBHOOK_VECTOR_NO_NEWLINE)
    # The same JSON in other bytes is a different message.
    assert not gateway.verify_webhook_signature(without_newline, WEBHOOK_VECTOR)
    assert not gateway.verify_webhook_signature(fixture_body, WEBHOOK_VECTOR_NO_NEWLINE)
    assert not gateway.verify_webhook_signature(reserialised, WEBHOOK_VECTOR)


def test_webhook_signature_rejects_other_secrets_and_junk(fixture_body: bytes) -> None:
    wrong_secret = RazorpayGateway("rzp_test_x", "key_secret", "not_the_webhook_secret")
    gateway = RazorpayGateway("rzp_test_x", "x", "key_secret")

    assert not wrong_secret.verify_webhook_signature(fixture_body, WEBHOOK_VECTOR)
    assert not gateway.verify_webhook_signature(fixture_body, "")
    assert not gateway.verify_webhook_signature(fixture_body, "\u2603" * 64)


def test_our_signatures_agree_with_the_official_sdk(fixture_body: bytes) -> None:
    # The SDK raises SignatureVerificationError on mismatch and returns True on success.
    client = razorpay.Client(auth=("rzp_test_x", "key_secret"))
    assert client.utility.verify_payment_signature(
        {
            "razorpay_order_id": "order_A1",
            "razorpay_payment_id": "pay_B2",
            "razorpay_signature": payment_signature("key_secret", "order_A1", "pay_B2"),
        }
    )
    # The SDK only takes str bodies (2.0.1 bug with bytes), hence decode here.
    assert client.utility.verify_webhook_signature(
        fixture_body.decode(), webhook_signature("whsec", fixture_body), "whsec"
    )


# --- the adapter through the official SDK, against the sandbox ----------------------------


async def test_create_fetch_order_and_list_payments(server: SandboxServer) -> None:
    gateway: PaymentGateway = gateway_for(server)

    created = await gateway.create_order(
        amount=12_500, currency="INR", receipt="canteen-order-42", notes={"order": "42"}
    )
    result = await pay(server, created.id)
    fetched = await gateway.fetch_order(created.id)
    [payment] = await gateway.order_payments(created.id)

    assert created.id.startswith("order_") and len(created.id) == 20
    assert (created.amount, created.currency, created.receipt) == (
        12_500,
        "INR",
        "canteen-order-42",
    )
    assert (created.status, created.amount_paid, created.attempts) == ("created", 0, 0)
    assert created.created_at.tzinfo is not None
    assert abs(created.created_at.timestamp() - time.time()) < 60
    assert server.sandbox.order(created.id)["notes"] == {"order": "42"}  # type: ignore[index]
    assert (fetched.status, fetched.amount_paid, fetched.attempts) == ("paid", 12_500, 1)
    assert payment.id == result["razorpay_payment_id"]
    assert (payment.order_id, payment.amount, payment.currency) == (created.id, 12_500, "INR")
    assert (payment.status, payment.captured, payment.method) == ("captured", True, "upi")
    assert payment.error_code is None and payment.amount_refunded == 0


async def test_fetch_payment_reports_failure_details(server: SandboxServer) -> None:
    gateway = gateway_for(server)
    order = await gateway.create_order(amount=500, currency="INR", receipt="r-1", notes={})
    result = await pay(server, order.id, "failure")

    payment = await gateway.fetch_payment(result["error"]["metadata"]["payment_id"])

    assert (payment.status, payment.captured) == ("failed", False)
    assert payment.error_code == "BAD_REQUEST_ERROR"
    assert payment.error_description == "Payment failed"
    assert (await gateway.fetch_order(order.id)).status == "attempted"


async def test_amount_below_one_rupee_is_a_bad_request(server: SandboxServer) -> None:
    gateway = gateway_for(server)

    with pytest.raises(GatewayBadRequest) as caught:
        await gateway.create_order(amount=99, currency="INR", receipt="r-1", notes={})

    assert caught.value.retryable is False
    assert caught.value.code == "BAD_REQUEST_ERROR"
    assert "at least INR 1.00" in caught.value.message


async def test_wrong_key_secret_is_not_retryable(server: SandboxServer) -> None:
    gateway = RazorpayGateway(
        server.key_id, "wrong-secret", server.webhook_secret, base_url=server.base_url
    )

    with pytest.raises(GatewayError) as caught:
        await gateway.create_order(amount=500, currency="INR", receipt="r-1", notes={})

    assert caught.value.retryable is False
    assert "Authentication failed" in caught.value.message


async def test_unknown_ids_are_bad_requests(server: SandboxServer) -> None:
    gateway = gateway_for(server)

    with pytest.raises(GatewayBadRequest, match="does not exist"):
        await gateway.fetch_order("order_00000000000000")
    with pytest.raises(GatewayBadRequest, match="does not exist"):
        await gateway.fetch_payment("pay_00000000000000")


async def test_ids_that_would_change_the_url_are_refused_before_any_request() -> None:
    # A closed port: if a request were made, the error would be a retryable network one.
    gateway = RazorpayGateway("rzp_test_x", "s", "w", base_url=closed_port_url())

    for bad in ("pay_1/refund", "pay_1?x=1", "../orders", ""):
        with pytest.raises(GatewayBadRequest):
            await gateway.fetch_payment(bad)
        with pytest.raises(GatewayBadRequest):
            await gateway.refund(bad, amount=None, idempotency_key="refund-key-0001")


async def test_closed_port_is_retryable() -> None:
    gateway = RazorpayGateway("rzp_test_x", "s", "w", base_url=closed_port_url(), timeout=2)

    with pytest.raises(GatewayError) as caught:
        await gateway.create_order(amount=500, currency="INR", receipt="r-1", notes={})

    assert not isinstance(caught.value, GatewayBadRequest)
    assert caught.value.retryable is True


async def test_the_environments_proxy_settings_apply(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read once, when the gateway is made (requests would walk the environment on every
    call): a proxy applies, and NO_PROXY exempts a host from it."""
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", closed_port_url())
    through_proxy = gateway_for(server, timeout=2)
    with pytest.raises(GatewayError) as caught:
        await through_proxy.create_order(amount=500, currency="INR", receipt="r-1", notes={})
    assert caught.value.retryable is True and "network error" in str(caught.value)

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    exempt = gateway_for(server)
    order = await exempt.create_order(amount=500, currency="INR", receipt="r-2", notes={})
    assert order.id.startswith("order_")


async def test_the_sdk_reads_its_version_once_and_sends_its_own_user_agent(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stock SDK reads its package metadata from disk for every request's User-Agent;
    ours reads it when the gateway is made, and sends the same header."""
    gateway = gateway_for(server)
    reads: list[str] = []
    original = importlib.metadata.version

    def counted(name: str) -> str:
        reads.append(name)
        return original(name)

    monkeypatch.setattr(importlib.metadata, "version", counted)
    for i in range(3):
        await gateway.create_order(amount=500, currency="INR", receipt=f"r-{i}", notes={})
    assert reads == []
    stock = razorpay.Client()._update_user_agent_header({})
    assert reads == ["razorpay"]  # the stock client reads it per request
    assert stock["headers"]["User-Agent"].startswith("Razorpay-Python/2.")
    assert gateway._client._update_user_agent_header({}) == stock


async def test_unanswered_request_times_out_and_is_retryable() -> None:
    # Listening but never accepting: the connect succeeds, the reply never comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        gateway = RazorpayGateway("rzp_test_x", "s", "w", base_url=url, timeout=0.3)

        started = time.monotonic()
        with pytest.raises(GatewayError) as caught:
            await gateway.fetch_order("order_00000000000000")

    assert caught.value.retryable is True
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("status", "body", "content_type", "code"),
    [
        (500, b'{"error":{"code":"SERVER_ERROR","description":"boom"}}', "application/json", None),
        (502, b'{"error":{"code":"GATEWAY_ERROR","description":"bank"}}', "application/json", None),
        (502, b"<html>Bad Gateway</html>", "text/html", None),
        (
            409,
            b'{"error":{"code":"BAD_REQUEST_ERROR","description":"Another request with the '
            b'same idempotency key is still in progress."}}',
            "application/json",
            "BAD_REQUEST_ERROR",
        ),
    ],
)
async def test_gateway_side_failures_are_retryable(
    status: int, body: bytes, content_type: str, code: str | None
) -> None:
    canned = CannedServer(status, body, content_type)
    try:
        gateway = RazorpayGateway("rzp_test_x", "s", "w", base_url=canned.url, timeout=5)
        with pytest.raises(GatewayError) as caught:
            await gateway.refund("pay_1", amount=None, idempotency_key="refund-key-0001")
    finally:
        canned.close()

    assert not isinstance(caught.value, GatewayBadRequest)
    assert caught.value.retryable is True
    if code is not None:
        assert caught.value.code == code
    elif b"SERVER_ERROR" in body:
        assert caught.value.code == "SERVER_ERROR"
    elif b"GATEWAY_ERROR" in body:
        assert caught.value.code == "GATEWAY_ERROR"


async def test_refund_full_and_partial_with_idempotency(server: SandboxServer) -> None:
    gateway = gateway_for(server)
    order = await gateway.create_order(amount=10_000, currency="INR", receipt="r-1", notes={})
    payment_id = (await pay(server, order.id))["razorpay_payment_id"]

    partial = await gateway.refund(
        payment_id, amount=2_500, idempotency_key="refund-42-part", notes={"why": "item"}
    )
    again = await gateway.refund(
        payment_id, amount=2_500, idempotency_key="refund-42-part", notes={"why": "item"}
    )
    rest = await gateway.refund(payment_id, amount=None, idempotency_key="refund-42-rest")
    payment = await gateway.fetch_payment(payment_id)

    assert partial.id.startswith("rfnd_")
    assert (partial.payment_id, partial.amount, partial.status) == (payment_id, 2_500, "pending")
    assert again.id == partial.id
    assert rest.amount == 7_500 and rest.id != partial.id
    assert (payment.status, payment.amount_refunded) == ("refunded", 10_000)


async def test_refund_idempotency_conflicts_are_bad_requests(server: SandboxServer) -> None:
    gateway = gateway_for(server)
    order = await gateway.create_order(amount=10_000, currency="INR", receipt="r-1", notes={})
    payment_id = (await pay(server, order.id))["razorpay_payment_id"]
    await gateway.refund(payment_id, amount=1_000, idempotency_key="refund-42-once")

    with pytest.raises(GatewayBadRequest, match="Different request"):
        await gateway.refund(payment_id, amount=2_000, idempotency_key="refund-42-once")
    with pytest.raises(GatewayBadRequest):
        await gateway.refund(payment_id, amount=1_000, idempotency_key="short")
    assert (await gateway.fetch_payment(payment_id)).amount_refunded == 1_000


def test_checkout_url_only_for_a_hosted_checkout() -> None:
    real = RazorpayGateway("rzp_test_x", "s", "w")
    sandbox = RazorpayGateway("rzp_test_x", "s", "w", checkout_base_url="http://127.0.0.1:9100/")

    url = sandbox.checkout_url("order_AbC123", "canteen://pay/done?o=1&x=y")

    assert real.checkout_url("order_AbC123", "https://example.test/cb") is None
    assert url is not None
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "http://127.0.0.1:9100/checkout/order_AbC123"
    )
    assert parse_qs(parts.query) == {"callback_url": ["canteen://pay/done?o=1&x=y"]}


async def test_checkout_url_leads_to_the_sandbox_checkout(server: SandboxServer) -> None:
    gateway = gateway_for(server, checkout_base_url=server.base_url)
    order = await gateway.create_order(amount=500, currency="INR", receipt="r-1", notes={})
    url = gateway.checkout_url(order.id, "https://example.test/cb")
    assert url is not None

    async with httpx.AsyncClient(trust_env=False) as client:
        page = await client.get(url)

    assert page.status_code == 200
    assert order.id in page.text and 'value="https://example.test/cb"' in page.text


def test_constructor_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError, match="timeout"):
        RazorpayGateway("rzp_test_x", "s", "w", timeout=0)
    with pytest.raises(ValueError, match="required"):
        RazorpayGateway("rzp_test_x", "", "w")
