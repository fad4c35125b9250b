"""Small harness-side helpers over plain httpx: sign-in, the menu, placing setup orders."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

KITCHEN_PHONE = "+919000000002"
KITCHEN_PASSWORD = "canteen-kitchen"  # the demo kitchen account (README)
ADMIN_PHONE = "+919000000001"
ADMIN_PASSWORD = "canteen-admin"
API = "/api/v1"
_CODE = re.compile(r"\b(\d{6})\b")


async def otp_from_outbox(
    http: httpx.AsyncClient,
    phone: str,
    *,
    after: str | None = None,
    timeout: float = 30.0,  # noqa: ASYNC109
) -> str:
    """The newest sign-in code sent to `phone` (dev outbox; development only)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.05
    while True:
        r = await http.get(f"{API}/dev/outbox", params={"channel": "sms", "to": phone, "limit": 1})
        r.raise_for_status()
        rows = r.json()["data"]
        if rows and rows[0]["id"] != after:
            match = _CODE.search(rows[0]["body"] or "")
            if match:
                return match.group(1)
        if loop.time() > deadline:
            raise TimeoutError(f"no SMS for {phone} after {timeout} s")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.5)


async def customer_token(http: httpx.AsyncClient, phone: str) -> str:
    r = await http.post(f"{API}/auth/request-otp", json={"phone": phone})
    r.raise_for_status()
    code = await otp_from_outbox(http, phone)
    r = await http.post(f"{API}/auth/verify-otp", json={"phone": phone, "otp": code})
    r.raise_for_status()
    return str(r.json()["data"]["access_token"])


async def staff_token(
    http: httpx.AsyncClient, phone: str = KITCHEN_PHONE, password: str = KITCHEN_PASSWORD
) -> str:
    r = await http.post(f"{API}/auth/staff-login", json={"phone": phone, "password": password})
    r.raise_for_status()
    return str(r.json()["data"]["access_token"])


async def lunch_items(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    r = await http.get(f"{API}/menu/items", params={"time_slot": "lunch", "available": "true"})
    r.raise_for_status()
    return list(r.json()["data"])


async def refill_stock(http: httpx.AsyncClient, admin: str, items: list[dict[str, Any]]) -> int:
    """Give every item with a daily count a large one, so the load never sells out (a
    sold-out item is a correct 409, but not what these runs measure)."""
    n = 0
    for item in items:
        if item.get("daily_stock") is not None:
            r = await http.patch(
                f"{API}/admin/menu/items/{item['id']}",
                json={"daily_stock": 10_000},
                headers={"Authorization": f"Bearer {admin}"},
            )
            r.raise_for_status()
            n += 1
    return n


async def place_cash_order(
    http: httpx.AsyncClient, token: str, item_id: str, *, time_slot: str = "lunch"
) -> dict[str, Any]:
    r = await http.post(
        f"{API}/orders",
        json={
            "items": [{"menu_item_id": item_id, "quantity": 1}],
            "order_type": "pickup",
            "payment_method": "cash",
            "time_slot": time_slot,
        },
        headers={"Authorization": f"Bearer {token}", "X-Idempotency-Key": str(uuid.uuid4())},
    )
    r.raise_for_status()
    return dict(r.json()["data"])


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[dict[str, str], float]]:
    """Each server-sent event as its fields (`id`, `event`, `data`, ...) and the time it
    was received; heartbeat comments come through as events without fields."""
    block: dict[str, str] = {}
    async for line in lines:
        if line:
            key, _, value = line.partition(":")
            block[key] = value.strip()
            continue
        yield block, time.time()
        block = {}
