"""Auth journeys and every error path of design §4 and issue #2."""

from __future__ import annotations

import base64
import json
import uuid

import jwt
from statements_seen import ServerStatements

from canteen.users.models import User
from conftest import (
    API,
    BACKEND,
    TEST_SECRET,
    assert_error,
    bearer,
    count_rows,
    login_customer,
    login_staff,
    wait_for_otp,
)

PHONE = "+919876543210"


async def test_otp_login_creates_customer_and_returns_tokens(client, container):
    r = await client.post(f"{API}/auth/request-otp", json={"phone": "98765 43210"})
    assert r.status_code == 200
    assert r.json() == {"data": {"expires_in": 300, "resend_after": 30}}
    code = await wait_for_otp(client, container, PHONE)
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": "+91 98765-43210", "otp": code})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["user"]["phone"] == PHONE and data["user"]["role"] == "customer"
    assert data["expires_in"] == 3600 and data["refresh_expires_in"] == 30 * 24 * 3600
    me = await client.get(f"{API}/users/me", headers=bearer(data))
    assert me.status_code == 200 and me.json()["data"]["id"] == data["user"]["id"]
    # Logging in again finds the same customer.
    await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})  # within cooldown -> 429
    assert await count_rows(container, User) == 1


async def test_a_first_sign_in_writes_the_account_alone_as_the_orm_would(client, container):
    """A student's first sign-in writes one row, their account, by the direct path
    (`users.service.add_customer`): every column as the ORM's defaults gave it, the row
    the session's own for the answer, and on PostgreSQL sent on its own: no BEGIN, no
    COMMIT around its INSERT."""
    await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    code = await wait_for_otp(client, container, PHONE)
    verify = {"phone": PHONE, "otp": code}
    if BACKEND == "postgres":  # asyncpg's own log of what it sends
        async with ServerStatements(container.engine) as server:
            r = await client.post(f"{API}/auth/verify-otp", json=verify)
            sent = server.on_connection_that_sent("INSERT users")
        assert sent == ["SELECT users", "INSERT users"]
    else:
        r = await client.post(f"{API}/auth/verify-otp", json=verify)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    async with container.sessionmaker() as s:
        user = await s.get(User, uuid.UUID(data["user"]["id"]))
    assert user is not None and user.phone == PHONE == data["user"]["phone"]
    assert (user.role, user.is_active, user.no_show_count) == ("customer", True, 0)
    assert (user.name, user.email, user.password_hash) == (None, None, None)
    assert user.last_login_at is not None and user.created_at == user.updated_at
    me = await client.get(f"{API}/users/me", headers=bearer(data))
    assert me.status_code == 200 and me.json()["data"]["id"] == str(user.id)
    assert await count_rows(container, User) == 1


async def test_a_returning_student_signs_in_to_the_same_account(client, container, clock):
    """The second sign-in reads the account by its number (the direct path) and writes
    only its sign-in time (one direct UPDATE, `onupdate` applied as the ORM would)."""
    first = await login_customer(client, container)
    async with container.sessionmaker() as s:
        before = await s.get(User, uuid.UUID(first["user"]["id"]))
        assert before is not None and before.last_login_at is not None
    clock.advance(60)
    await container.kv.delete(f"otp:cooldown:{PHONE}")  # the cooldown key's TTL has passed
    r = await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    assert r.status_code == 200, r.text
    code = await wait_for_otp(client, container, PHONE, after=1)
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": PHONE, "otp": code})
    assert r.status_code == 200, r.text
    again = r.json()["data"]
    assert again["user"]["id"] == first["user"]["id"]
    assert await count_rows(container, User) == 1
    async with container.sessionmaker() as s:
        after = await s.get(User, uuid.UUID(first["user"]["id"]))
        assert after is not None
        assert after.last_login_at > before.last_login_at
        assert after.updated_at > before.updated_at
        assert (after.phone, after.role, after.is_active) == (PHONE, "customer", True)


async def test_access_token_claims_are_complete_and_pinned(client, container):
    session = await login_customer(client, container)
    header = jwt.get_unverified_header(session["access_token"])
    assert header == {"alg": "HS256", "typ": "at+jwt"}
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    assert {"iss", "aud", "sub", "exp", "iat", "jti", "role"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 3600


async def test_invalid_phone_is_rejected_and_no_sms_is_sent(client, container):
    for bad in ["12345", "not-a-phone", "+1 000"]:
        r = await client.post(f"{API}/auth/request-otp", json={"phone": bad})
        err = assert_error(r, 400, "VALIDATION_ERROR")
        assert err["details"][0]["field"] == "phone"
    await container.jobs.drain()
    r = await client.get(f"{API}/dev/outbox")
    assert r.json()["data"] == []


async def test_wrong_code_counts_down_then_locks_the_code(client, container):
    await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    code = await wait_for_otp(client, container, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    counts = ((4, "4 tries left"), (3, "3 tries left"), (2, "2 tries left"), (1, "1 try left"))
    for remaining, words in counts:
        r = await client.post(f"{API}/auth/verify-otp", json={"phone": PHONE, "otp": wrong})
        err = assert_error(r, 400, "INVALID_OTP")
        assert err["details"][0]["attempts_remaining"] == remaining
        assert err["message"] == f"That code is not right; {words}"
    # The fifth wrong try ends the code and says so (issue 14, point 6), not "expired".
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": PHONE, "otp": wrong})
    err = assert_error(r, 400, "OTP_ATTEMPTS_EXCEEDED")
    assert err["message"] == "Too many wrong codes. Ask for a new one."
    # Even the right one no longer works, and it says why.
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": PHONE, "otp": code})
    assert_error(r, 400, "OTP_ATTEMPTS_EXCEEDED")
    assert await count_rows(container, User) == 0
    # A new code brings a fresh set of tries.
    await container.kv.delete(f"otp:cooldown:{PHONE}")
    r = await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    assert r.status_code == 200, r.text
    fresh = await wait_for_otp(client, container, PHONE, after=1)
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": PHONE, "otp": fresh})
    assert r.status_code == 200, r.text


async def test_code_is_single_use(client, container):
    await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    code = await wait_for_otp(client, container, PHONE)
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": PHONE, "otp": code})
    assert r.status_code == 200
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": PHONE, "otp": code})
    assert_error(r, 400, "OTP_EXPIRED")
    assert await count_rows(container, User) == 1


async def test_code_is_bound_to_its_phone(client, container):
    await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    code = await wait_for_otp(client, container, PHONE)
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": "+919876500000", "otp": code})
    assert_error(r, 400, "OTP_EXPIRED")
    assert await count_rows(container, User) == 0


async def test_code_expires_after_its_ttl(client, container, clock):
    await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    code = await wait_for_otp(client, container, PHONE)
    clock.advance(301)
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": PHONE, "otp": code})
    assert_error(r, 400, "OTP_EXPIRED")
    assert await count_rows(container, User) == 0


async def test_resend_cooldown_then_new_code_replaces_old(client, container, clock):
    await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    first = await wait_for_otp(client, container, PHONE)
    r = await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    err = assert_error(r, 429, "RATE_LIMITED")
    assert 1 <= int(r.headers["retry-after"]) <= 30
    assert err["details"][0]["retry_after"] == int(r.headers["retry-after"])
    # Only one SMS went out during the cooldown.
    outbox = (await client.get(f"{API}/dev/outbox", params={"to": PHONE})).json()["data"]
    assert len(outbox) == 1
    await container.kv.delete(f"otp:cooldown:{PHONE}")  # the cooldown key's TTL has passed
    r = await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    assert r.status_code == 200
    second = await wait_for_otp(client, container, PHONE, after=1)
    if second != first:
        r = await client.post(f"{API}/auth/verify-otp", json={"phone": PHONE, "otp": first})
        assert_error(r, 400, "INVALID_OTP")
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": PHONE, "otp": second})
    assert r.status_code == 200


async def test_hourly_limit_per_phone(client, container):
    for i in range(5):
        await container.kv.delete(f"otp:cooldown:{PHONE}")
        r = await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
        assert r.status_code == 200, (i, r.text)
        assert int(r.headers["x-ratelimit-remaining"]) == 4 - i
        assert int(r.headers["x-ratelimit-reset"]) > container.clock.timestamp()
    await container.kv.delete(f"otp:cooldown:{PHONE}")
    r = await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    assert_error(r, 429, "RATE_LIMITED")
    assert int(r.headers["retry-after"]) >= 1
    assert r.headers["x-ratelimit-remaining"] == "0"
    await container.jobs.drain()


async def test_hourly_limit_per_client_ip(client, container):
    limit = container.settings.otp_requests_per_hour_per_ip
    for i in range(limit):
        r = await client.post(f"{API}/auth/request-otp", json={"phone": f"+9198765{i:05d}"})
        assert r.status_code == 200, r.text
    r = await client.post(f"{API}/auth/request-otp", json={"phone": "+919812399999"})
    assert_error(r, 429, "RATE_LIMITED")
    await container.jobs.drain()


async def test_verify_attempts_are_limited_per_ip(client, container):
    limit = container.settings.auth_attempts_per_minute_per_ip
    for i in range(limit):
        r = await client.post(
            f"{API}/auth/verify-otp", json={"phone": f"+9198765{i:05d}", "otp": "123456"}
        )
        assert_error(r, 400, "OTP_EXPIRED")
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": PHONE, "otp": "123456"})
    assert_error(r, 429, "RATE_LIMITED")
    assert r.headers["x-ratelimit-remaining"] == "0"


async def test_refresh_rotates_and_reuse_revokes_the_family(client, container):
    session = await login_customer(client, container)
    r = await client.post(f"{API}/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 200
    second = r.json()["data"]
    assert second["refresh_token"] != session["refresh_token"]
    assert (await client.get(f"{API}/users/me", headers=bearer(second))).status_code == 200
    # The first token is presented again: theft. The whole family is revoked.
    r = await client.post(f"{API}/auth/refresh", json={"refresh_token": session["refresh_token"]})
    err = assert_error(r, 401, "INVALID_TOKEN")
    assert err["details"] == [{"reason": "refresh_token_reused"}]
    r = await client.post(f"{API}/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_error(r, 401, "INVALID_TOKEN")


async def test_refresh_token_expires(client, container, clock):
    session = await login_customer(client, container)
    clock.advance(30 * 24 * 3600 + 1)
    r = await client.post(f"{API}/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert_error(r, 401, "INVALID_TOKEN")


async def test_unknown_refresh_token(client):
    r = await client.post(f"{API}/auth/refresh", json={"refresh_token": "x" * 43})
    assert_error(r, 401, "INVALID_TOKEN")


async def test_logout_revokes_the_session(client, container):
    session = await login_customer(client, container)
    r = await client.post(f"{API}/auth/logout", json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 200 and r.json() == {"data": {"logged_out": True}}
    r = await client.post(f"{API}/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert_error(r, 401, "INVALID_TOKEN")


async def test_access_token_expiry_is_token_expired(client, container, clock):
    session = await login_customer(client, container)
    clock.advance(3601)
    r = await client.get(f"{API}/users/me", headers=bearer(session))
    assert_error(r, 401, "TOKEN_EXPIRED")
    # The refresh token still works and gives a fresh access token.
    r = await client.post(f"{API}/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 200
    assert (
        await client.get(f"{API}/users/me", headers=bearer(r.json()["data"]))
    ).status_code == 200


def _forge(claims: dict, key: str = TEST_SECRET, alg: str = "HS256", typ: str = "at+jwt") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"typ": typ})


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


async def test_tampered_and_malformed_tokens_are_invalid(client, container):
    session = await login_customer(client, container)
    good = jwt.decode(session["access_token"], options={"verify_signature": False})
    head, body, sig = session["access_token"].split(".")
    elevated = dict(good, role="admin")
    cases = {
        "bad signature": f"{head}.{body}.{sig[:-4]}AAAA",
        "payload changed": f"{head}.{_b64(elevated)}.{sig}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(good)}.",
        "other algorithm": _forge(good, alg="HS512"),
        "other key": _forge(good, key="another-secret-key-of-enough-length-0123456789"),
        "wrong audience": _forge(dict(good, aud="someone-else")),
        "wrong issuer": _forge(dict(good, iss="evil")),
        "missing jti": _forge({k: v for k, v in good.items() if k != "jti"}),
        "not a uuid subject": _forge(dict(good, sub="42")),
        "wrong type": _forge(good, typ="JWT"),
        "malformed": "not.a.jwt",
        "garbage": "abc",
        "refresh token as access": session["refresh_token"],
    }
    for name, token in cases.items():
        r = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, name
        assert r.json()["error"]["code"] == "INVALID_TOKEN", name


async def test_missing_authorization_is_invalid_token(client):
    r = await client.get(f"{API}/users/me")
    assert_error(r, 401, "INVALID_TOKEN")
    r = await client.get(f"{API}/users/me", headers={"Authorization": "Basic abc"})
    assert_error(r, 401, "INVALID_TOKEN")


async def test_token_for_deleted_user_is_invalid(client, container):
    token = container.tokens.encode_access(uuid.uuid4(), "customer", container.clock.now(), 60)
    r = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})
    assert_error(r, 401, "INVALID_TOKEN")


async def test_staff_login_with_password(client, container):
    session = await login_staff(client, container, "kitchen", "+919000000201")
    assert session["user"]["role"] == "kitchen"
    r = await client.get(f"{API}/users/me", headers=bearer(session))
    assert r.json()["data"]["role"] == "kitchen"
    # The sign-in time is written, as a student's is (one direct UPDATE).
    async with container.sessionmaker() as s:
        staff = await s.get(User, uuid.UUID(session["user"]["id"]))
        assert staff is not None and staff.last_login_at is not None
        assert staff.updated_at >= staff.last_login_at


async def test_staff_login_errors_look_the_same(client, container):
    await login_staff(client, container, "kitchen", "+919000000201")
    await login_customer(client, container)
    wrong_password = await client.post(
        f"{API}/auth/staff-login", json={"phone": "+919000000201", "password": "nope-nope"}
    )
    unknown = await client.post(
        f"{API}/auth/staff-login", json={"phone": "+919000000999", "password": "nope-nope"}
    )
    customer = await client.post(
        f"{API}/auth/staff-login", json={"phone": PHONE, "password": "nope-nope"}
    )
    for r in (wrong_password, unknown, customer):
        err = assert_error(r, 401, "INVALID_CREDENTIALS")
        assert err["message"] == "The phone number or password is wrong"


async def test_role_checks(client, container):
    customer = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    r = await client.get(f"{API}/admin/staff", headers=bearer(customer))
    err = assert_error(r, 403, "INSUFFICIENT_ROLE")
    assert err["details"][0]["required_roles"] == ["admin"]
    r = await client.get(f"{API}/admin/staff", headers=bearer(kitchen))
    assert_error(r, 403, "INSUFFICIENT_ROLE")


async def test_deactivated_account_tokens_stop_at_once(client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    r = await client.patch(
        f"{API}/admin/staff/{kitchen['user']['id']}",
        json={"is_active": False},
        headers=bearer(admin),
    )
    assert r.status_code == 200 and r.json()["data"]["is_active"] is False
    r = await client.get(f"{API}/users/me", headers=bearer(kitchen))
    assert_error(r, 401, "INVALID_TOKEN")
    r = await client.post(f"{API}/auth/refresh", json={"refresh_token": kitchen["refresh_token"]})
    assert_error(r, 401, "INVALID_TOKEN")
    r = await client.post(
        f"{API}/auth/staff-login", json={"phone": "+919000000201", "password": "staff-password-1"}
    )
    assert_error(r, 403, "ACCOUNT_DISABLED")


async def test_sms_is_sent_by_a_job_after_the_request(client, container, settings):
    """Embedded: an in-process job; PostgreSQL + Redis: the real Celery worker writes it."""
    await client.post(f"{API}/auth/request-otp", json={"phone": PHONE})
    code = await wait_for_otp(client, container, PHONE)
    assert len(code) == 6
    runner = type(container.jobs).__name__
    assert runner == ("CeleryRunner" if settings.redis_url else "InProcessRunner")
