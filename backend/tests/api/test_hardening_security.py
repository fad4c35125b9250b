"""Issue 13, security points 1, 2, 3 and 5, walked as an attacker and as an operator would.

1. production refuses to start without real Razorpay credentials, and a webhook signed
   with the sandbox's public secret confirms nothing;
2. the customer OTP flow never yields a staff role;
3. request bodies are limited per route before they are read (413);
5. security headers, no-store token responses, no docs in production, working CORS.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live import serve
from orders_helpers import order_body, place, seed_menu
from sqlalchemy import select

from canteen.app import UPLOAD_BODY_LIMIT, WEBHOOK_BODY_LIMIT, create_app
from canteen.bootstrap import build_container
from canteen.orders.models import Order
from canteen.payments.gateway import webhook_signature
from canteen.payments.models import WebhookEvent
from canteen.portal import CONTENT_SECURITY_POLICY
from canteen.settings import (
    SANDBOX_RAZORPAY_WEBHOOK_SECRET,
    ConfigurationError,
    Settings,
)
from canteen.users import service as users_service
from canteen.users.models import User
from conftest import (
    API,
    BACKEND,
    assert_error,
    bearer,
    count_rows,
    login_customer,
    make_settings,
    make_staff,
    wait_for_otp,
)

# What a real deployment configures (no value here is a development default).
PRODUCTION_SECRETS: dict[str, Any] = {
    "env": "production",
    "secret_key": "kP9w2Zq7Lm4xR8vT1nB6cY3hJ5sD0fGa",
    "sms_provider": "twilio",
    "twilio_account_sid": "AC5f1e3d9c7b2a4e6f8d0c1b3a5e7f9d2c",
    "twilio_auth_token": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
    "twilio_from_number": "+15005550006",
    "payment_gateway": "razorpay",
    "razorpay_key_id": "rzp_live_Q1w2E3r4T5y6U7",
    "razorpay_key_secret": "Zx8Cv7Bn6Mm5Ll4Kk3Jj2Hh",
    "razorpay_webhook_secret": "whsec-4f9Tq2Lz8Rk1Vn6Yp3",
    "push_provider": "fcm",
}
# Hosts nobody answers on: these apps are only asked things that never reach them.
UNREACHABLE = {
    "database_url": "postgresql://canteen@db.invalid/canteen",
    "redis_url": "redis://cache.invalid:6379/0",
}


def production_values(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    credentials = tmp_path / "fcm-service-account.json"
    credentials.write_text("{}")  # production checks the file is there; FCM reads it later
    return {
        **PRODUCTION_SECRETS,
        **UNREACHABLE,
        "fcm_credentials_file": str(credentials),
        "clock_offset_seconds": 0,  # production refuses the run's clock shift
        **overrides,
    }


def asgi(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def sms_sent_to(client: httpx.AsyncClient, container: Any, phone: str) -> list[Any]:
    await container.jobs.drain()
    r = await client.get(f"{API}/dev/outbox", params={"channel": "sms", "to": phone})
    messages: list[Any] = r.json()["data"]
    return messages


async def refresh_token_keys(container: Any) -> list[Any]:
    """Refresh tokens in the key-value store (canteen.auth.tokens), on either backend."""
    if container.redis is not None:
        return [k async for k in container.redis.scan_iter("rt:*")]
    return [k for k in container.kv._data if k.startswith("rt:")]


# ---- 1. production secrets ----------------------------------------------------------


def test_production_without_a_webhook_secret_refuses_to_start(tmp_path):
    values = production_values(tmp_path)
    del values["razorpay_webhook_secret"]
    with pytest.raises(ConfigurationError) as exc:
        create_app(Settings(**values))
    assert "CANTEEN_RAZORPAY_WEBHOOK_SECRET is not set" in str(exc.value)
    with pytest.raises(ConfigurationError) as exc:
        create_app(
            Settings(**{**values, "razorpay_webhook_secret": SANDBOX_RAZORPAY_WEBHOOK_SECRET})
        )
    assert "CANTEEN_RAZORPAY_WEBHOOK_SECRET is a public development value" in str(exc.value)
    # The JWT key is judged by strength: 36 x "a" is long enough and worthless.
    with pytest.raises(ConfigurationError) as exc:
        create_app(Settings(**production_values(tmp_path, secret_key="a" * 36)))
    assert "CANTEEN_SECRET_KEY has too little variety" in str(exc.value)


@pytest.mark.skipif(BACKEND != "postgres", reason="production runs on PostgreSQL + Redis only")
async def test_production_app_refuses_a_webhook_signed_with_the_sandbox_secret(
    client, container, base_env, razorpay_sandbox, tmp_path
):
    # An unpaid UPI order, and a genuine-looking "payment.captured" for it signed with
    # the sandbox's public webhook secret (as anyone who reads our source can make).
    m = await seed_menu(container)
    me = await login_customer(client, container)
    r = await place(client, me, order_body((m.dosa, 1), payment_method="upi"))
    assert r.status_code == 201, r.text
    order = r.json()["data"]
    gateway_order = order["payment"]["gateway_order_id"]
    paid = httpx.post(
        f"{razorpay_sandbox.base_url}/sandbox/pay",
        json={"order_id": gateway_order, "outcome": "success"},
        timeout=10,
    )
    assert paid.status_code == 200, paid.text
    [event] = [
        e
        for e in razorpay_sandbox.sandbox.events
        if e.event == "payment.captured"
        and e.payload["payload"]["payment"]["entity"]["order_id"] == gateway_order
    ]
    assert event.signature == webhook_signature(SANDBOX_RAZORPAY_WEBHOOK_SECRET, event.body)

    prod = make_settings(
        base_env,
        **production_values(
            tmp_path,
            razorpay_base_url=razorpay_sandbox.base_url,
            database_url=base_env["CANTEEN_DATABASE_URL"],
            redis_url=base_env["CANTEEN_REDIS_URL"],
        ),
    )
    prod_container = build_container(prod)
    try:
        async with asgi(create_app(prod, container=prod_container)) as production:
            forged = {"X-Razorpay-Signature": event.signature, "x-razorpay-event-id": event.id}
            r = await production.post(
                f"{API}/payments/webhooks/razorpay", content=event.body, headers=forged
            )
            assert_error(r, 400, "PAYMENT_SIGNATURE_INVALID")
            assert await count_rows(container, WebhookEvent) == 0
            r = await client.get(f"{API}/orders/{order['id']}", headers=bearer(me))
            assert (r.json()["data"]["status"], r.json()["data"]["payment_status"]) == (
                "received",
                "pending",
            )
            # The same bytes signed with the configured secret are taken: the refusal
            # above was the secret, not a broken production app.
            real = webhook_signature(prod.razorpay_webhook_secret, event.body)
            r = await production.post(
                f"{API}/payments/webhooks/razorpay",
                content=event.body,
                headers={**forged, "X-Razorpay-Signature": real},
            )
            assert r.status_code == 200, r.text
            assert r.json()["data"] == {"received": True, "duplicate": False}
    finally:
        await prod_container.close()
    deadline = time.monotonic() + 20
    while True:  # let the worker apply it before the next test empties the tables
        r = await client.get(f"{API}/orders/{order['id']}", headers=bearer(me))
        if r.json()["data"]["status"] == "confirmed":
            break
        assert time.monotonic() < deadline, r.json()
        await asyncio.sleep(0.1)


# ---- 2. the customer OTP flow never yields a staff role ----------------------------


@pytest.mark.parametrize("role", ["admin", "kitchen", "delivery"])
async def test_otp_sign_in_with_a_staff_phone_yields_no_staff_token(client, container, role):
    phone = "+919000000101"
    await make_staff(container, role, phone)
    users_before = await count_rows(container, User)
    # request-otp answers a staff number as it answers any number (no enumeration) ...
    r = await client.post(f"{API}/auth/request-otp", json={"phone": phone})
    assert r.status_code == 200, r.text
    assert set(r.json()["data"]) == {"expires_in", "resend_after"}
    code = await wait_for_otp(client, container, phone)
    # ... and the proven code gets a clear refusal, not a session.
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": phone, "otp": code})
    err = assert_error(r, 403, "STAFF_USE_PASSWORD")
    assert err["details"] == [{"field": "phone", "issue": "staff_account"}]
    assert "password" in err["message"] and "portal" in err["message"]
    assert "token" not in r.text
    # Nothing written: no account, no sign-in recorded, no refresh token.
    assert await count_rows(container, User) == users_before
    async with container.sessionmaker() as s:
        staff = await s.scalar(select(User).where(User.phone == phone))
    assert staff is not None and staff.role == role and staff.last_login_at is None
    assert await refresh_token_keys(container) == []
    # The code is spent; the password is the way in.
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": phone, "otp": code})
    assert_error(r, 400, "OTP_EXPIRED")
    r = await client.post(
        f"{API}/auth/staff-login", json={"phone": phone, "password": "staff-password-1"}
    )
    assert r.status_code == 200 and r.json()["data"]["user"]["role"] == role


async def test_a_customer_session_does_not_refresh_into_a_staff_role(client, container):
    phone = "+919876543210"
    me = await login_customer(client, container, phone)
    # `canteen create-admin` makes an existing account the admin (with a password).
    async with container.sessionmaker() as s, s.begin():
        await users_service.create_admin(s, phone, "long-enough-1", "Asha")
    r = await client.post(f"{API}/auth/refresh", json={"refresh_token": me["refresh_token"]})
    err = assert_error(r, 401, "INVALID_TOKEN")
    assert err["details"] == [{"reason": "role_changed"}]
    r = await client.post(
        f"{API}/auth/staff-login", json={"phone": phone, "password": "long-enough-1"}
    )
    assert r.status_code == 200 and r.json()["data"]["user"]["role"] == "admin"


# ---- 3. request body limits --------------------------------------------------------


def _too_large(r: httpx.Response, limit: int) -> None:
    err = assert_error(r, 413, "PAYLOAD_TOO_LARGE")
    assert err["details"] == [{"field": "body", "issue": "too_large", "limit_bytes": limit}]


class Body:
    """A request body streamed in chunks, counting how much of it the server pulled."""

    def __init__(self, head: bytes, chunks: int, chunk: int = 64 * 1024) -> None:
        self.head, self.chunks, self.chunk = head, chunks, chunk
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.pulled += len(self.head)
        yield self.head
        for _ in range(self.chunks):
            self.pulled += self.chunk
            yield b"x" * self.chunk


async def test_an_oversized_json_body_is_refused_unread(client, container, settings):
    phone = "+919876543210"
    limit = settings.max_body_bytes
    assert limit == 64 * 1024
    # Just over the limit, declared.
    body = b'{"phone": "' + phone.encode() + b'", "pad": "' + b"x" * limit + b'"}'
    r = await client.post(
        f"{API}/auth/request-otp", content=body, headers={"content-type": "application/json"}
    )
    _too_large(r, limit)
    # 100 MB declared: answered before a byte is pulled.
    huge = Body(b'{"phone": "' + phone.encode() + b'", "pad": "', chunks=1600)
    r = await client.post(
        f"{API}/auth/request-otp",
        content=huge,
        headers={"content-type": "application/json", "content-length": str(1600 * 2**16 + 40)},
    )
    _too_large(r, limit)
    assert huge.pulled == 0
    assert await sms_sent_to(client, container, phone) == []
    assert await count_rows(container, User) == 0


async def test_a_chunked_body_is_counted_and_cut_off_at_the_limit(client, container, settings):
    me = await login_customer(client, container)
    m = await seed_menu(container)
    # An order whose note never ends, sent without Content-Length.
    head = b'{"items": [{"menu_item_id": "' + str(m.dosa).encode() + b'", "quantity": 1}], '
    body = Body(head + b'"order_type": "pickup", "payment_method": "cash", "note": "', 1600)
    r = await client.post(
        f"{API}/orders",
        content=body,
        headers={**bearer(me), "content-type": "application/json", "X-Idempotency-Key": "k-1"},
    )
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"
    _too_large(r, settings.max_body_bytes)
    # Cut off at the limit: 2 of the 1,600 chunks were read, not 100 MB.
    assert body.pulled <= settings.max_body_bytes + 2 * body.chunk
    assert await count_rows(container, Order) == 0
    # The same order, small, goes through.
    r = await place(client, me, order_body((m.dosa, 1)))
    assert r.status_code == 201, r.text


async def test_a_chunked_body_through_a_real_server(app, container, settings):
    body = Body(b'{"phone": "+919876543210", "pad": "', chunks=8, chunk=16 * 1024)
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as live:
        r = await live.post(
            f"{API}/auth/request-otp", content=body, headers={"content-type": "application/json"}
        )
        _too_large(r, settings.max_body_bytes)
        # 100 MB announced, a few bytes sent: the answer comes at once, nothing is waited for.
        ip, port = host.split(":")
        reader, writer = await asyncio.open_connection(ip, int(port))
        writer.write(
            f"POST {API}/auth/request-otp HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {100 * 2**20}\r\n\r\n"
            '{"phone": "+919876543210", "pad": "'.encode()
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 413 "), head
        writer.close()
        # The server goes on answering.
        r = await live.get("/healthz")
        assert r.status_code == 200
    assert await count_rows(container, User) == 0


async def test_webhooks_and_uploads_have_their_own_limits(client, container):
    body = b'{"event": "payment.captured", "pad": "' + b"x" * WEBHOOK_BODY_LIMIT + b'"}'
    r = await client.post(
        f"{API}/payments/webhooks/razorpay",
        content=body,
        headers={"X-Razorpay-Signature": "0" * 64, "content-type": "application/json"},
    )
    _too_large(r, WEBHOOK_BODY_LIMIT)
    assert await count_rows(container, WebhookEvent) == 0
    # An image upload may be far larger than a JSON body: 1 MiB passes the edge (and
    # is then refused for want of a token), past the upload limit it is 413 unread.
    upload = f"{API}/admin/menu/items/00000000-0000-0000-0000-000000000001/image"
    r = await client.post(
        upload,
        content=b"x" * 2**20,
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert_error(r, 401, "INVALID_TOKEN")
    huge = Body(b"--b\r\n", chunks=UPLOAD_BODY_LIMIT // 2**16 + 1)
    r = await client.post(
        upload,
        content=huge,
        headers={
            "content-type": "multipart/form-data; boundary=b",
            "content-length": str(UPLOAD_BODY_LIMIT + 2**16),
        },
    )
    _too_large(r, UPLOAD_BODY_LIMIT)
    assert huge.pulled == 0


async def test_the_json_limit_is_a_setting(container):
    app = create_app(
        container.settings.model_copy(update={"max_body_bytes": 2048}), container=container
    )
    async with asgi(app) as small:
        r = await small.post(
            f"{API}/auth/request-otp", json={"phone": "9876543210", "pad": "x" * 2048}
        )
        _too_large(r, 2048)
        r = await small.post(f"{API}/auth/request-otp", json={"phone": "98765", "pad": "x" * 1024})
        assert_error(r, 400, "VALIDATION_ERROR")  # read and judged on its content


# ---- 5. headers and exposure -------------------------------------------------------


def _framing_and_sniffing_refused(r: httpx.Response) -> None:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    [csp] = r.headers.get_list("content-security-policy")
    assert "frame-ancestors 'none'" in csp


async def test_security_headers_on_api_errors_and_portal(client, container, settings):
    for path in (f"{API}/menu/items", f"{API}/menu/items", "/healthz", f"{API}/no-such-thing"):
        r = await client.get(path)  # the second menu read is the cached fast path
        _framing_and_sniffing_refused(r)
        assert "strict-transport-security" not in r.headers  # not outside production
    r = await client.post(f"{API}/auth/staff-login", json={"phone": "1", "password": "x"})
    _framing_and_sniffing_refused(r)
    r = await client.get("/portal/")
    _framing_and_sniffing_refused(r)
    if (settings.portal_dist / "index.html").is_file():
        # The portal keeps its whole policy (its scripts load from 'self'), not ours on top.
        assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in r.headers["content-security-policy"]


async def test_hsts_in_production_only(client, tmp_path):
    async with asgi(create_app(Settings(**production_values(tmp_path)))) as production:
        r = await production.get("/healthz")
    assert r.status_code == 200
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    _framing_and_sniffing_refused(r)
    r = await client.get("/healthz")
    assert "strict-transport-security" not in r.headers


async def test_docs_and_schema_are_off_in_production(client, tmp_path):
    async with asgi(create_app(Settings(**production_values(tmp_path)))) as production:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert_error(await production.get(path), 404, "NOT_FOUND")
    settings = Settings(**production_values(tmp_path, api_docs=True))
    async with asgi(create_app(settings)) as documented:
        assert (await documented.get("/openapi.json")).status_code == 200
    for path in ("/docs", "/openapi.json"):
        assert (await client.get(path)).status_code == 200  # on in development and tests


async def test_token_responses_are_never_cached(client, container):
    phone = "+919876543210"
    r = await client.post(f"{API}/auth/request-otp", json={"phone": phone})
    code = await wait_for_otp(client, container, phone)
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": phone, "otp": code})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    await make_staff(container, "kitchen", "+919000000102")
    r = await client.post(
        f"{API}/auth/staff-login", json={"phone": "+919000000102", "password": "staff-password-1"}
    )
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    r = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": r.json()["data"]["refresh_token"]}
    )
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.headers["pragma"] == "no-cache"


ORIGIN = "https://order.campus.edu"


async def test_cors_origins_answer_preflights_for_the_api_only(client, container):
    settings = container.settings.model_copy(update={"cors_origins": [ORIGIN]})
    async with asgi(create_app(settings, container=container)) as api:
        preflight = {
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-idempotency-key",
        }
        r = await api.options(f"{API}/orders", headers=preflight)
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in r.headers["access-control-allow-methods"]
        allowed = r.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "x-idempotency-key"} <= {
            h.strip() for h in allowed.split(",")
        }
        assert "access-control-allow-credentials" not in r.headers  # bearer tokens only
        _framing_and_sniffing_refused(r)
        # The actual request: the browser may read the answer and its useful headers.
        r = await api.get(f"{API}/menu/items", headers={"Origin": ORIGIN})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == ORIGIN
        exposed = r.headers["access-control-expose-headers"].lower()
        assert "etag" in exposed and "x-request-id" in exposed
        # Another origin: refused in the error contract, and given no allow-origin.
        r = await api.options(
            f"{API}/orders", headers={**preflight, "Origin": "https://evil.example"}
        )
        err = assert_error(r, 400, "CORS_NOT_ALLOWED")
        assert err["details"] == [{"field": "origin", "issue": "not_allowed"}]
        assert "access-control-allow-origin" not in r.headers
        r = await api.get(f"{API}/menu/items", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
        # Outside /api/v1 (portal, media) the API's CORS does not answer.
        r = await api.get("/portal/", headers={"Origin": ORIGIN})
        assert "access-control-allow-origin" not in r.headers
    # Without the setting there is no cross-origin access at all.
    r = await client.options(f"{API}/orders", headers=preflight)
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    assert "access-control-allow-origin" not in r.headers
