"""Helpers the backend and SDK suites share: signing in (the OTP from the dev outbox),
staff accounts, the error envelope, row counts."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx

API = "/api/v1"
OTP_RE = re.compile(r"\b(\d{6})\b")


async def wait_for_otp(
    client: httpx.AsyncClient, container: Any, phone: str, after: int = 0
) -> str:
    """The code from the dev outbox: in-process jobs are drained, Celery is polled."""
    await container.jobs.drain()
    deadline = time.monotonic() + 15
    while True:
        r = await client.get(f"{API}/dev/outbox", params={"channel": "sms", "to": phone})
        messages = r.json()["data"]
        if len(messages) > after:
            match = OTP_RE.search(messages[0]["body"])
            assert match, messages[0]
            return match.group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"no SMS reached {phone}")
        await asyncio.sleep(0.05)


async def login_customer(
    client: httpx.AsyncClient, container: Any, phone: str = "+919876543210"
) -> dict[str, Any]:
    r = await client.post(f"{API}/auth/request-otp", json={"phone": phone})
    assert r.status_code == 200, r.text
    code = await wait_for_otp(client, container, phone)
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": phone, "otp": code})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def make_staff(
    container: Any, role: str, phone: str, password: str = "staff-password-1"
) -> None:
    from canteen.core.security import hash_password_async
    from canteen.users.models import User

    async with container.sessionmaker() as s, s.begin():
        s.add(
            User(
                phone=phone,
                name=f"{role} user",
                role=role,
                password_hash=await hash_password_async(password),
            )
        )


async def login_staff(
    client: httpx.AsyncClient,
    container: Any,
    role: str = "admin",
    phone: str = "+919000000101",
    password: str = "staff-password-1",
) -> dict[str, Any]:
    await make_staff(container, role, phone, password)
    r = await client.post(f"{API}/auth/staff-login", json={"phone": phone, "password": password})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    assert err["code"] == code, body
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["details"], list)
    return err


async def count_rows(container: Any, model: Any) -> int:
    from sqlalchemy import func, select

    async with container.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)
