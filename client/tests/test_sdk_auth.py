"""Sign-in, headers, token refresh (single flight), sign-out (design §4, §6, §13.3)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import uuid

import httpx
import pytest

from canteen_client import (
    AuthFailure,
    CanteenClient,
    FileTokenStore,
    MemoryTokenStore,
    Tokens,
)

from .sdk_harness import API, make_api, sign_in


async def test_otp_sign_in_stores_tokens_and_every_call_carries_the_headers(
    api, wire, raw, container
):
    session = await sign_in(api, raw, container)
    assert session.user.phone == "+919876543210" and session.user.role == "customer"
    stored = await api.token_store.load()
    assert stored is not None and stored == session.tokens
    assert stored.user is not None and stored.user["phone"] == "+919876543210"
    me = await api.users.me()
    assert me.id == session.user.id

    request_ids = set()
    for seen in wire.seen:
        assert seen.headers["X-Platform"] == "android"
        assert seen.headers["X-App-Version"] == api.app_version
        request_ids.add(seen.headers["X-Request-ID"])
        uuid.UUID(seen.headers["X-Request-ID"])
    assert len(request_ids) == len(wire.seen)  # one id per call
    (me_call,) = wire.calls("GET", f"{API}/users/me")
    assert me_call.headers["Authorization"] == f"Bearer {session.tokens.access_token}"
    # The server echoes the id: a failure can be traced to its log lines.
    r = await api.request("GET", "/users/me", headers={"X-Request-ID": "trace-me-1"})
    assert r.headers["X-Request-ID"] == "trace-me-1"


async def test_platform_and_version_are_configurable(app):
    api, wire = make_api(app, platform="ios", app_version="2.3.4")
    async with api:
        await api.menu.categories()
    (call,) = wire.seen
    assert call.headers["X-Platform"] == "ios" and call.headers["X-App-Version"] == "2.3.4"


async def test_token_refresh_on_401(api, wire, raw, container, clock):
    session = await sign_in(api, raw, container)
    clock.advance(3601)  # the access token (1 h) has expired on the server
    me = await api.users.me()
    assert me.phone == "+919876543210"
    statuses = [(s.method, s.path, s.status) for s in wire.seen[-3:]]
    assert statuses == [
        ("GET", f"{API}/users/me", 401),
        ("POST", f"{API}/auth/refresh", 200),
        ("GET", f"{API}/users/me", 200),
    ]
    tokens = await api.token_store.load()
    assert tokens is not None and tokens.access_token != session.tokens.access_token
    assert tokens.refresh_token != session.tokens.refresh_token  # rotated
    assert tokens.user == session.tokens.user
    assert api.refresh_count == 1


async def test_ten_concurrent_calls_share_one_refresh(api, wire, raw, container, clock):
    await sign_in(api, raw, container)
    clock.advance(3601)
    results = await asyncio.gather(*(api.users.me() for _ in range(10)))
    assert {u.phone for u in results} == {"+919876543210"}
    assert len(wire.calls("POST", f"{API}/auth/refresh")) == 1
    expired = [s for s in wire.calls("GET", f"{API}/users/me") if s.status == 401]
    assert len(expired) == 10  # every call saw the 401 and waited for the same refresh
    assert api.refresh_count == 1


async def test_a_failed_refresh_signs_out_and_clears_the_store(app, raw, container, clock):
    signed_out: list[str] = []
    api, wire = make_api(app, on_signed_out=signed_out.append)
    async with api:
        session = await sign_in(api, raw, container)
        # The session is revoked elsewhere (e.g. "sign out everywhere"): refresh is refused.
        r = await raw.post(
            f"{API}/auth/logout", json={"refresh_token": session.tokens.refresh_token}
        )
        assert r.status_code == 200
        clock.advance(3601)
        results = await asyncio.gather(*(api.users.me() for _ in range(10)), return_exceptions=True)
        assert all(isinstance(e, AuthFailure) and e.signed_out for e in results), results
        assert len(wire.calls("POST", f"{API}/auth/refresh")) == 1
        assert await api.token_store.load() is None
        assert not await api.is_signed_in()
        assert signed_out == ["refresh_failed"]
        # Signed out: nothing is sent until the next sign-in.
        sent = len(wire.seen)
        with pytest.raises(AuthFailure) as err:
            await api.users.me()
        assert err.value.code == "NOT_SIGNED_IN" and len(wire.seen) == sent


async def test_invalid_token_signs_out(app, raw, container):
    signed_out: list[str] = []
    api, wire = make_api(app, on_signed_out=signed_out.append)
    async with api:
        session = await sign_in(api, raw, container)
        forged = Tokens(session.tokens.access_token[:-4] + "AAAA", session.tokens.refresh_token)
        await api.set_tokens(forged)
        with pytest.raises(AuthFailure) as err:
            await api.users.me()
        assert err.value.status == 401 and err.value.code == "INVALID_TOKEN"
        assert err.value.signed_out
        assert not wire.calls("POST", f"{API}/auth/refresh")  # no refresh for a bad token
        assert await api.token_store.load() is None
        assert signed_out == ["invalid_token"]


async def test_the_signed_out_hook_may_use_the_client(app, raw, container):
    seen: list[tuple[str, bool]] = []

    async def hook(reason: str) -> None:
        seen.append((reason, await api.is_signed_in()))
        await api.sign_out_locally()  # re-entrant: must not deadlock

    api, _ = make_api(app, on_signed_out=hook)
    async with api:
        session = await sign_in(api, raw, container)
        await api.set_tokens(Tokens("forged", session.tokens.refresh_token))
        with pytest.raises(AuthFailure):
            await asyncio.wait_for(api.users.me(), 5)
    assert seen == [("invalid_token", False)]


async def test_insufficient_role_is_an_auth_failure_that_keeps_the_session(api, raw, container):
    await sign_in(api, raw, container)
    with pytest.raises(AuthFailure) as err:
        await api.request("GET", "/admin/orders")
    assert err.value.status == 403 and err.value.code == "INSUFFICIENT_ROLE"
    assert not err.value.signed_out and await api.is_signed_in()


async def test_wrong_otp_and_logout(api, wire, raw, container):
    from canteen_client import ValidationFailure

    await api.auth.request_otp("+919876500011")
    await container.jobs.drain()
    with pytest.raises(ValidationFailure) as err:
        await api.auth.verify_otp("+919876500011", "000000")
    assert err.value.code in ("INVALID_OTP", "OTP_EXPIRED")
    assert len(wire.calls("POST", f"{API}/auth/verify-otp")) == 1  # a code is never resent

    session = await sign_in(api, raw, container, "+919876500012")
    await api.auth.logout()
    assert await api.token_store.load() is None
    # The server revoked the session too: its refresh token is dead.
    r = await raw.post(f"{API}/auth/refresh", json={"refresh_token": session.tokens.refresh_token})
    assert r.status_code == 401


async def test_staff_login(api, container):
    await backend_make_staff(container, "kitchen", "+919000000301")
    session = await api.auth.staff_login("+919000000301", "staff-password-1")
    assert session.user.role == "kitchen"
    page = await api.request("GET", "/admin/orders")
    assert page.json()["data"] == []


async def backend_make_staff(container, role, phone):
    from .sdk_harness import make_staff

    await make_staff(container, role, phone)


async def test_file_token_store_is_private_atomic_and_survives_restarts(
    app, raw, container, tmp_path
):
    path = tmp_path / "state" / "tokens.json"
    store = FileTokenStore(path)
    assert await store.load() is None
    api, _ = make_api(app, token_store=store)
    async with api:
        session = await sign_in(api, raw, container)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["refresh_token"] == session.tokens.refresh_token
    assert [p.name for p in path.parent.iterdir()] == ["tokens.json"]  # no temp files left

    # A new process (a new client on the same file) is still signed in.
    again, _ = make_api(app, token_store=FileTokenStore(path))
    async with again:
        assert (await again.users.me()).id == session.user.id
        await again.auth.logout()
    assert not path.exists()


async def test_file_token_store_treats_a_corrupt_file_as_signed_out(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    assert await FileTokenStore(path).load() is None


async def test_memory_store_and_token_repr_hide_secrets():
    tokens = Tokens("secret-access", "secret-refresh")
    store = MemoryTokenStore(tokens)
    assert await store.load() is tokens
    assert "secret" not in repr(tokens)
    await store.clear()
    assert await store.load() is None


def test_base_url_normalisation():
    assert CanteenClient("http://h:8000").base_url == "http://h:8000/api/v1"
    assert CanteenClient("https://h/api/v1/").base_url == "https://h/api/v1"
    assert CanteenClient("https://h/api/v1").ws_base_url == "wss://h/api/v1"
    assert CanteenClient("http://h/x", ws_base_url="ws://o/y/").ws_base_url == "ws://o/y"
    with pytest.raises(ValueError):
        CanteenClient("h:8000")


async def test_timeouts_follow_the_design():
    async with CanteenClient("http://h") as api:
        timeout = api.http.timeout
        assert timeout.connect == 10 and timeout.read == 15
        assert isinstance(api.http, httpx.AsyncClient)
