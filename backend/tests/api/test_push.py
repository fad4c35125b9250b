"""Order-status push notifications (issue #6): the job, the dev outbox and FCM.

FCM runs through the real `firebase_admin` SDK and google-auth against a local HTTP
stand-in (OAuth2 token endpoint + FCM HTTP v1), which checks the request shape itself.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from sqlalchemy import select

from canteen.bootstrap import build_container
from canteen.core.container import Container
from canteen.core.jobs import REGISTRY, InProcessRunner, RetryableJobError
from canteen.dev.models import DevOutboxMessage
from canteen.notifications.dev import DevPushProvider
from canteen.notifications.factory import build_push_provider
from canteen.notifications.fcm import FcmPushProvider
from canteen.notifications.push import PushMessage, order_status_message
from canteen.notifications.tasks import claim_key, push_order_status
from canteen.orders.models import Order
from canteen.settings import ConfigurationError
from canteen.users.models import DeviceToken, User
from canteen_testkit.fcm_standin import (
    GOOGLE_TOKEN_URI,
    INVALID_TOKEN_BODY,
    FcmStandIn,
    bad_request_body,
    google_error,
    write_service_account,
)
from conftest import API, count_rows

PROJECT = "canteen-test"
NUMBER = "ORD-20260213-042"
_seq = iter(range(1, 10_000))


# ---- fixtures and helpers --------------------------------------------------------------


@pytest.fixture
def fcm() -> Iterator[FcmStandIn]:
    with FcmStandIn(PROJECT) as standin:
        yield standin


@pytest.fixture
def service_account(fcm: FcmStandIn, tmp_path: Path) -> Path:
    path = tmp_path / "service-account.json"
    fcm.write_service_account(path)
    return path


@pytest_asyncio.fixture
async def fcm_provider(fcm: FcmStandIn, service_account: Path) -> AsyncIterator[FcmPushProvider]:
    provider = FcmPushProvider(str(service_account), None, base_url=fcm.base_url)
    yield provider
    await provider.aclose()


@pytest_asyncio.fixture
async def fcm_container(container: Container, fcm_provider: FcmPushProvider) -> Container:
    container._push = fcm_provider
    return container


async def seed_order(
    c: Container,
    tokens: list[str],
    *,
    order_type: str = "pickup",
    status: str = "ready",
    number: str = NUMBER,
) -> str:
    """A customer with these device tokens and one order; returns the order id."""
    seq = next(_seq)
    async with c.sessionmaker() as s, s.begin():
        user = User(phone=f"+9198765{seq:05d}", name="Asha", role="customer")
        s.add(user)
        await s.flush()
        for token in tokens:
            s.add(DeviceToken(user_id=user.id, token=token, platform="android"))
        order = Order(
            number=number,
            business_date=date(2026, 2, 13),
            daily_seq=seq,
            customer_id=user.id,
            status=status,
            payment_method="cash",
            payment_status="cash_due",
            order_type=order_type,
            delivery_address="Hostel 4, Room 112" if order_type == "delivery" else None,
            subtotal=6000,
            delivery_fee=0,
            total=6000,
            pickup_code="4821",
        )
        s.add(order)
        await s.flush()
        return str(order.id)


async def run_job(
    c: Container, order_id: str, *, status: str = "ready", event_id: str | None = None
) -> str:
    event_id = event_id or str(uuid.uuid4())
    await push_order_status(
        c, event_id=event_id, order_id=order_id, order_number=NUMBER, status=status
    )
    return event_id


async def stored_tokens(c: Container) -> set[str]:
    async with c.sessionmaker() as s:
        return set(await s.scalars(select(DeviceToken.token)))


async def push_outbox(c: Container) -> list[DevOutboxMessage]:
    async with c.sessionmaker() as s:
        query = select(DevOutboxMessage).where(DevOutboxMessage.channel == "push")
        return list(await s.scalars(query.order_by(DevOutboxMessage.to)))


def fcm_wire_message(
    token: str, title: str, body: str, order_id: str, status: str
) -> dict[str, Any]:
    """The `message` object FCM must receive for one order-status push."""
    return {
        "token": token,
        "notification": {"title": title, "body": body},
        "data": {
            "type": "order_status",
            "order_id": order_id,
            "status": status,
            "click_action": "ORDER_TRACKING",
        },
        "android": {
            "priority": "high",
            "ttl": "3600s",
            "notification": {"click_action": "ORDER_TRACKING", "channel_id": "orders"},
        },
        "apns": {"payload": {"aps": {"category": "ORDER_TRACKING", "sound": "default"}}},
    }


# ---- dev outbox ------------------------------------------------------------------------


async def test_dev_outbox_receives_the_design_payload(
    container: Container, client: httpx.AsyncClient
) -> None:
    assert isinstance(container.push, DevPushProvider)  # the embedded default
    order_id = await seed_order(container, ["dev-token-1", "dev-token-2"])

    await run_job(container, order_id, status="ready")

    expected_payload = {
        "notification": {
            "title": "Order Ready! 🎉",
            "body": "Your order #ORD-20260213-042 is ready for pickup",
        },
        "data": {
            "type": "order_status",
            "order_id": order_id,
            "status": "ready",
            "click_action": "ORDER_TRACKING",
        },
    }
    rows = await push_outbox(container)
    assert [r.to for r in rows] == ["dev-token-1", "dev-token-2"]
    for row in rows:
        assert row.body == "Order Ready! 🎉: Your order #ORD-20260213-042 is ready for pickup"
        assert row.payload == expected_payload

    r = await client.get(f"{API}/dev/outbox", params={"channel": "push", "to": "dev-token-2"})
    assert r.status_code == 200, r.text
    [shown] = r.json()["data"]
    assert shown["payload"] == expected_payload
    assert shown["channel"] == "push"


async def test_dev_outbox_uses_delivery_wording_and_one_row_per_event(
    container: Container,
) -> None:
    order_id = await seed_order(container, ["dev-token"], order_type="delivery")

    event = await run_job(container, order_id, status="completed")
    await run_job(container, order_id, status="completed", event_id=event)  # redelivered
    await run_job(container, order_id, status="out_for_delivery")

    bodies = sorted(r.body or "" for r in await push_outbox(container))
    assert bodies == [
        "Order Delivered! ✅: Your order #ORD-20260213-042 has been delivered. Enjoy your meal!",
        "Out for Delivery 🛵: Your order #ORD-20260213-042 is on its way",
    ]


async def test_nothing_is_sent_without_order_tokens_or_a_notified_status(
    container: Container,
) -> None:
    no_tokens = await seed_order(container, [])
    with_token = await seed_order(container, ["dev-token"], number="ORD-20260213-043")

    await run_job(container, no_tokens)
    await run_job(container, str(uuid.uuid4()))  # order gone
    await run_job(container, "not-a-uuid")
    await run_job(container, with_token, status="received")  # not a customer notification

    assert await push_outbox(container) == []
    assert await stored_tokens(container) == {"dev-token"}


async def test_job_is_registered_and_retried_by_the_runner(
    container: Container, fcm_provider: FcmPushProvider, fcm: FcmStandIn
) -> None:
    assert REGISTRY["push.order_status"].func is push_order_status
    assert REGISTRY["push.order_status"].max_retries == 5
    container._push = fcm_provider
    order_id = await seed_order(container, ["tok-a", "tok-b"])
    fcm.fail_token("tok-b", 429)  # QUOTA_EXCEEDED: the SDK does not retry it itself

    runner = InProcessRunner(container, base_delay=0.0)
    await runner.enqueue(
        "push.order_status",
        event_id=str(uuid.uuid4()),
        order_id=order_id,
        order_number=NUMBER,
        status="preparing",
    )
    await runner.drain()

    assert [a.status for a in fcm.attempts if a.token == "tok-b"] == [429, 200]
    assert fcm.attempts_for("tok-a") == 1
    assert len(fcm.messages_for("tok-a")) == len(fcm.messages_for("tok-b")) == 1


# ---- FCM through the SDK ---------------------------------------------------------------


async def test_fcm_request_has_the_exact_shape(fcm_container: Container, fcm: FcmStandIn) -> None:
    order_id = await seed_order(fcm_container, ["fcm-token-A"], order_type="delivery")

    await run_job(fcm_container, order_id, status="completed")

    [received] = fcm.messages
    assert received.project_id == PROJECT
    assert received.message == fcm_wire_message(
        "fcm-token-A",
        "Order Delivered! ✅",
        "Your order #ORD-20260213-042 has been delivered. Enjoy your meal!",
        order_id,
        "completed",
    )
    assert received.name.startswith(f"projects/{PROJECT}/messages/")
    # An OAuth2 access token from the service-account JWT grant, sent as a Bearer token.
    assert fcm.token_requests == 1
    assert received.headers["authorization"] == f"Bearer {received.access_token}"
    assert received.headers["x-goog-api-format-version"] == "2"
    assert received.headers["content-type"] == "application/json"


async def test_unregistered_and_invalid_tokens_are_deleted_but_payload_errors_keep_them(
    fcm_container: Container, fcm: FcmStandIn
) -> None:
    tokens = ["tok-good", "tok-gone", "tok-bad", "tok-payload"]
    order_id = await seed_order(fcm_container, tokens)
    fcm.unregister("tok-gone")  # 404 UNREGISTERED
    fcm.mark_invalid("tok-bad")  # 400 INVALID_ARGUMENT, FcmError, "not a valid ... token"
    # 400 INVALID_ARGUMENT about the payload (BadRequest detail, even with an FcmError one)
    fcm.fail_token(
        "tok-payload",
        400,
        bad_request_body("message.data", "Invalid data key", fcm_error=True),
    )

    event = await run_job(fcm_container, order_id, status="ready")  # nothing retryable

    assert await stored_tokens(fcm_container) == {"tok-good", "tok-payload"}
    assert [m.token for m in fcm.messages] == ["tok-good"]
    # A payload error is not retried either: the same event sends nothing more.
    before = fcm.request_count
    await run_job(fcm_container, order_id, status="ready", event_id=event)
    assert fcm.request_count == before


async def test_unavailable_makes_the_job_retry_only_the_failed_devices(
    fcm_container: Container, fcm: FcmStandIn
) -> None:
    order_id = await seed_order(fcm_container, ["tok-a", "tok-b"])
    # 503 UNAVAILABLE five times: the SDK's first try and its four own retries.
    fcm.fail_token("tok-b", 503, times=5)
    event = str(uuid.uuid4())

    with pytest.raises(RetryableJobError, match="1 of 2 devices"):
        await run_job(fcm_container, order_id, status="ready", event_id=event)

    assert [a.status for a in fcm.attempts if a.token == "tok-b"] == [503] * 5
    assert [m.token for m in fcm.messages] == ["tok-a"]
    assert await fcm_container.kv.get(claim_key(event, "tok-a")) is not None
    assert await fcm_container.kv.get(claim_key(event, "tok-b")) is None  # released

    await run_job(fcm_container, order_id, status="ready", event_id=event)  # the retry

    assert fcm.attempts_for("tok-a") == 1  # never re-sent
    assert fcm.token_requests == 1  # one OAuth grant for both runs and parallel sends
    assert sorted(m.token or "" for m in fcm.messages) == ["tok-a", "tok-b"]
    assert await stored_tokens(fcm_container) == {"tok-a", "tok-b"}


async def test_running_the_job_twice_for_one_event_sends_once(
    fcm_container: Container, fcm: FcmStandIn
) -> None:
    order_id = await seed_order(fcm_container, ["tok-1", "tok-2"])
    event = str(uuid.uuid4())

    await run_job(fcm_container, order_id, status="confirmed", event_id=event)
    requests = fcm.request_count
    await run_job(fcm_container, order_id, status="confirmed", event_id=event)

    assert fcm.request_count == requests  # not a single HTTP request the second time
    assert sorted(m.token or "" for m in fcm.messages) == ["tok-1", "tok-2"]

    await run_job(fcm_container, order_id, status="preparing")  # the next event does send
    assert len(fcm.messages) == 4
    assert {m.message["data"]["status"] for m in fcm.messages} == {"confirmed", "preparing"}


# ---- the FCM provider's error mapping --------------------------------------------------


def fcm_error(code: str) -> dict[str, str]:
    return {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}


def _msg(token: str, body: str = "Your order #ORD-20260213-042 is ready for pickup") -> PushMessage:
    _, _, data = order_status_message(NUMBER, "order-1", "ready", "pickup")
    return PushMessage(token=token, title="Order Ready! 🎉", body=body, data=data)


async def test_fcm_results_classify_each_failure(
    fcm_provider: FcmPushProvider, fcm: FcmStandIn
) -> None:
    fcm.fail_token("tok-quota", 429)
    fcm.fail_token("tok-502", 502, None)  # a load balancer's empty 502
    # The bad-token error as FCM has also sent it: plus a BadRequest on message.token.
    both = json.loads(json.dumps(INVALID_TOKEN_BODY))
    both["error"]["details"].append(
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [
                {
                    "field": "message.token",
                    "description": "The registration token is not a valid FCM registration token",
                }
            ],
        }
    )
    fcm.fail_token("tok-bad-2", 400, both)
    sender_mismatch = google_error(
        403, "PERMISSION_DENIED", "SenderId mismatch", [fcm_error("SENDER_ID_MISMATCH")]
    )
    fcm.fail_token("tok-sender", 403, sender_mismatch)

    messages = [
        _msg("tok-ok"),
        _msg("tok-quota"),
        _msg("tok-502"),
        _msg("tok-bad-2"),
        _msg("tok-sender"),
        _msg("tok-big", body="x" * 5000),  # over FCM's 4096-byte payload limit
    ]
    results = await fcm_provider.send_many(messages)

    by_token = {r.token: (r.ok, r.token_invalid, r.retryable) for r in results}
    assert by_token == {
        "tok-ok": (True, False, False),
        "tok-quota": (False, False, True),
        "tok-502": (False, False, True),
        "tok-bad-2": (False, True, False),
        "tok-sender": (False, False, False),
        "tok-big": (False, False, False),
    }
    assert [r.token for r in results] == [m.token for m in messages]  # in order
    ok = results[0]
    assert ok.message_id == fcm.messages[0].name
    big = next(r for r in results if r.token == "tok-big")
    assert big.error and "too big" in big.error
    assert fcm.attempts_for("tok-quota") == 1  # 429 is left to our job's own retries


async def test_a_bare_404_never_marks_tokens_invalid(
    fcm: FcmStandIn, service_account: Path
) -> None:
    # A wrong base URL: the front end's 404 carries no FCM error, so it says nothing about
    # the token.
    provider = FcmPushProvider(str(service_account), None, base_url=f"{fcm.base_url}/wrong")
    try:
        [result] = await provider.send_many([_msg("tok")])
    finally:
        await provider.aclose()
    assert (result.ok, result.token_invalid, result.retryable) == (False, False, False)


async def test_wrong_project_is_a_permission_error_not_a_bad_token(
    fcm: FcmStandIn, service_account: Path
) -> None:
    provider = FcmPushProvider(str(service_account), "other-project", base_url=fcm.base_url)
    try:
        assert provider.project_id == "other-project"
        [result] = await provider.send_many([_msg("tok")])
    finally:
        await provider.aclose()
    assert (result.ok, result.token_invalid, result.retryable) == (False, False, False)
    assert result.error and "PermissionDenied" in result.error


async def test_rejected_credentials_fail_the_batch_without_touching_tokens(
    fcm: FcmStandIn, tmp_path: Path
) -> None:
    # A key the token endpoint does not know: google-auth's JWT grant gets invalid_grant.
    path = tmp_path / "untrusted.json"
    write_service_account(path, fcm.token_uri, project_id=PROJECT)
    provider = FcmPushProvider(str(path), None, base_url=fcm.base_url)
    try:
        results = await provider.send_many([_msg("tok-1"), _msg("tok-2")])
    finally:
        await provider.aclose()
    assert [(r.ok, r.token_invalid, r.retryable) for r in results] == [(False, False, False)] * 2
    assert results[0].error and "invalid_grant" in results[0].error
    assert fcm.token_requests == 0
    assert fcm.attempts == []


async def test_an_unreachable_token_endpoint_is_retryable(fcm: FcmStandIn, tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path / "sa.json"
    fcm.trust(write_service_account(path, f"http://127.0.0.1:{port}/token", project_id=PROJECT))
    provider = FcmPushProvider(str(path), None, base_url=fcm.base_url, timeout=2)
    try:
        [result] = await provider.send_many([_msg("tok")])
    finally:
        await provider.aclose()
    assert (result.ok, result.token_invalid, result.retryable) == (False, False, True)
    assert fcm.attempts == []


# ---- settings and the container --------------------------------------------------------


async def test_factory_refuses_incomplete_fcm_settings(container: Container) -> None:
    s = container.settings
    with pytest.raises(ConfigurationError, match="CANTEEN_FCM_CREDENTIALS_FILE"):
        build_push_provider(s.model_copy(update={"push_provider": "fcm"}), container)
    missing = s.model_copy(
        update={"push_provider": "fcm", "fcm_credentials_file": "/nonexistent/sa.json"}
    )
    with pytest.raises(ConfigurationError, match="CANTEEN_FCM_CREDENTIALS_FILE"):
        build_push_provider(missing, container)
    with pytest.raises(ConfigurationError, match="CANTEEN_PUSH_PROVIDER"):
        build_push_provider(s.model_copy(update={"push_provider": "apns"}), container)


async def test_container_built_for_fcm_sends_through_the_stand_in(
    container: Container, fcm: FcmStandIn, service_account: Path
) -> None:
    settings = container.settings.model_copy(
        update={
            "push_provider": "fcm",
            "fcm_credentials_file": str(service_account),
            "fcm_base_url": fcm.base_url,
        }
    )
    c = build_container(settings, clock=container.clock)
    try:
        push = c.push
        assert isinstance(push, FcmPushProvider)
        assert c.push is push  # built once
        assert push.project_id == PROJECT  # from the service-account file
        order_id = await seed_order(c, ["tok-x"])
        await run_job(c, order_id, status="cancelled")
        [received] = fcm.messages
        assert received.message["notification"] == {
            "title": "Order Cancelled",
            "body": "Your order #ORD-20260213-042 has been cancelled",
        }
        assert await count_rows(c, DevOutboxMessage) == 0
    finally:
        await push.aclose()
        await c.close()


# ---- the stand-in itself: Google's checks ----------------------------------------------


def _assertion(sa: dict[str, Any], **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": sa["client_email"],
        "aud": GOOGLE_TOKEN_URI,
        "scope": "https://www.googleapis.com/auth/firebase.messaging",
        "iat": now,
        "exp": now + 3600,
    }
    payload.update(claims)
    return jwt.encode(
        payload, sa["private_key"], algorithm="RS256", headers={"kid": sa["private_key_id"]}
    )


def _token_request(fcm: FcmStandIn, assertion: str) -> httpx.Response:
    return httpx.post(
        fcm.token_uri,
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
    )


def test_standin_token_endpoint_checks_the_jwt_grant(fcm: FcmStandIn, tmp_path: Path) -> None:
    sa = fcm.write_service_account(tmp_path / "sa.json")
    other = write_service_account(tmp_path / "other.json", fcm.token_uri)

    r = _token_request(fcm, _assertion(sa))
    assert r.status_code == 200
    assert r.json()["token_type"] == "Bearer" and r.json()["access_token"]

    forged = jwt.encode(
        {**jwt.decode(_assertion(sa), options={"verify_signature": False})},
        other["private_key"],
        algorithm="RS256",
        headers={"kid": sa["private_key_id"]},
    )
    cases = [
        (forged, "invalid_grant", "Invalid JWT Signature."),
        (_assertion(sa, aud="https://example.com/token"), "invalid_grant", None),
        (_assertion(sa, exp=int(time.time()) + 7200), "invalid_grant", None),
        (_assertion(sa, scope="https://www.googleapis.com/auth/datastore"), "invalid_scope", None),
    ]
    for assertion, error, description in cases:
        r = _token_request(fcm, assertion)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == error
        if description:
            assert r.json()["error_description"] == description
    r = httpx.post(fcm.token_uri, data={"grant_type": "client_credentials"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_standin_validates_messages_like_fcm(fcm: FcmStandIn, tmp_path: Path) -> None:
    sa = fcm.write_service_account(tmp_path / "sa.json")
    fcm.fail_next(503)  # injected failures hit message sends only, never the token endpoint
    access = _token_request(fcm, _assertion(sa)).json()["access_token"]
    url = f"{fcm.base_url}/v1/projects/{PROJECT}/messages:send"

    def send(body: Any, token: str = access) -> httpx.Response:
        return httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})

    r = send({"message": {"token": "t"}})
    assert r.status_code == 503 and r.json()["error"]["status"] == "UNAVAILABLE"
    r = send({"message": {"token": "t", "data": {"a": "1"}}})
    assert r.status_code == 200 and r.json()["name"].startswith(f"projects/{PROJECT}/messages/")

    r = send({"message": {"token": "t"}}, token="ya29.forged")
    assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"

    def rejected(body: Any) -> dict[str, Any]:
        r = send(body)
        assert r.status_code == 400, r.text
        error: dict[str, Any] = r.json()["error"]
        assert error["status"] == "INVALID_ARGUMENT"
        types = {d["@type"] for d in error["details"]}
        assert "type.googleapis.com/google.rpc.BadRequest" in types
        return error

    error = rejected({"message": {"token": "t", "data": {"n": 1}}})
    assert error["message"] == "Invalid value at 'message.data[0].value' (TYPE_STRING), 1"
    rejected({"message": {"data": {"a": "1"}}})  # no target
    rejected({"message": {"token": "t", "topic": "news"}})  # two targets
    rejected({"message": {"token": "t", "notification": {"title": "x", "colour": "red"}}})
    rejected({"message": {"token": "t"}, "extra": True})
    rejected({"token": "t"})
    rejected({"message": {"token": "t", "data": {"from": "x"}}})  # reserved key
    rejected({"message": {"token": "t", "android": {"priority": "urgent"}}})
    rejected({"message": {"token": "t", "android": {"ttl": "1h"}}})
    rejected({"message": {"token": "t", "data": {"big": "x" * 4096}}})
    assert send({"message": {"token": "t", "data": {"big": "x" * 4000}}}).status_code == 200
    assert len(fcm.messages) == 2
