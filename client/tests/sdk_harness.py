"""Helpers for the SDK tests: the test menu, signing in, wire-level doubles.

The backend harness (servers, sign-in helpers, the menu writer) is the test kit's
(canteen_testkit, tools/testkit), shared with the backend suite.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from canteen_client import CanteenClient
from canteen_testkit.helpers import API, login_staff, make_staff, wait_for_otp
from canteen_testkit.menu import Dish, write_menu
from canteen_testkit.servers import free_port, serve

__all__ = ["API", "free_port", "make_staff", "serve"]


# ---- the menu the tests order from --------------------------------------------------


@dataclass
class Menu:
    mains: str
    drinks: str
    dosa: str
    chai: str
    biryani: str  # lunch only
    hidden: str  # switched off by the kitchen


async def seed_menu(container: Any) -> Menu:
    """Two categories, an all-day and a lunch slot, four dishes (one switched off)."""
    ids = await write_menu(
        container,
        categories=["Mains", "Drinks"],
        dishes=[
            Dish("Masala Dosa", 6000, "Mains", ("allday", "lunch")),
            Dish("Cutting Chai", 1500, "Drinks", ("allday", "lunch"), {"prep_minutes": 3}),
            Dish("Veg Biryani", 12000, "Mains", ("lunch",), {"prep_minutes": 20}),
            Dish("Paneer Roll", 9000, "Mains", ("allday",), {"is_available": False}),
        ],
        config={
            "cash_payment_enabled": True,
            "upi_payment_enabled": True,
            "restaurant_open": True,
            "ordering_paused": False,
        },
    )
    names = ("Mains", "Drinks", "Masala Dosa", "Cutting Chai", "Veg Biryani", "Paneer Roll")
    return Menu(*(str(ids[name]) for name in names))


async def touch_menu(container: Any, item_id: str, **values: Any) -> None:
    """Change an item the way the admin API does (the menu version moves on commit)."""
    from canteen.menu import service as menu_service
    from canteen.menu.models import MenuItem

    async with container.sessionmaker() as s, s.begin():
        item = await s.get(MenuItem, uuid.UUID(item_id))
        assert item is not None
        for k, v in values.items():
            setattr(item, k, v)
        await menu_service.mark_menu_changed(s)


# ---- signing in through the SDK ----------------------------------------------------


async def sign_in(
    api: CanteenClient, raw: httpx.AsyncClient, container: Any, phone: str = "+919876543210"
) -> Any:
    """OTP sign-in through the SDK; the code comes from the dev outbox."""
    outbox = await raw.get(f"{API}/dev/outbox", params={"channel": "sms", "to": phone})
    before = len(outbox.json()["data"])
    await api.auth.request_otp(phone)
    code = await wait_for_otp(raw, container, phone, after=before)
    return await api.auth.verify_otp(phone, code)


async def staff_session(raw: httpx.AsyncClient, container: Any, role: str, phone: str) -> Any:
    return await login_staff(raw, container, role, phone)


async def set_status(
    raw: httpx.AsyncClient, staff: dict[str, Any], order_id: str, status: str, **kw: Any
) -> None:
    r = await raw.patch(
        f"{API}/admin/orders/{order_id}/status",
        json={"status": status, **kw},
        headers={"Authorization": f"Bearer {staff['access_token']}"},
    )
    assert r.status_code == 200, r.text


# ---- wire-level doubles ---------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: httpx.Headers
    status: int | None
    body_bytes: int


class Wire(httpx.AsyncBaseTransport):
    """Wraps a transport: records every exchange; can drop answers after the server
    handled the request (`drop_after_handling`) to simulate a lost response."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[Seen] = []
        self._drops: dict[tuple[str, str], int] = {}
        self._refuse: dict[tuple[str, str], int] = {}

    def drop_after_handling(self, method: str, path: str, times: int = 1) -> None:
        self._drops[(method, path)] = times

    def refuse_connection(self, method: str, path: str, times: int = 1) -> None:
        self._refuse[(method, path)] = times

    def calls(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        return [
            s
            for s in self.seen
            if (method is None or s.method == method) and (path is None or s.path == path)
        ]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path)
        if self._refuse.get(key):
            self._refuse[key] -= 1
            self.seen.append(Seen(request.method, request.url.path, request.headers, None, 0))
            raise httpx.ConnectError("connection refused (test)", request=request)
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.seen.append(
            Seen(request.method, request.url.path, request.headers, response.status_code, len(body))
        )
        if self._drops.get(key):
            self._drops[key] -= 1
            raise httpx.ReadTimeout("the answer was lost (test)", request=request)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class FlakyServer:
    """An ASGI wrapper: answers `failures` requests to (method, path) with `status`
    before letting them through, as a server behind a struggling proxy would."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.rules: dict[tuple[str, str], list[int]] = {}
        self.hits: dict[tuple[str, str], int] = {}

    def fail(self, method: str, path: str, times: int = 2, status: int = 503) -> None:
        self.rules[(method, path)] = [status] * times

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            key = (scope["method"], scope["path"])
            self.hits[key] = self.hits.get(key, 0) + 1
            pending = self.rules.get(key)
            if pending:
                status = pending.pop(0)
                body = (
                    b'{"error":{"code":"SERVICE_UNAVAILABLE","message":"Try again","details":[]}}'
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


@dataclass
class RecordingSleep:
    """An injectable `sleep`: records the delays and returns at once (a hook may act)."""

    delays: list[float] = field(default_factory=list)
    hook: Callable[[float], Awaitable[None]] | None = None

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self.hook is not None:
            await self.hook(delay)
        await asyncio.sleep(0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@asynccontextmanager
async def live_api(app: Any, **kwargs: Any) -> AsyncIterator[CanteenClient]:
    """The SDK on a real uvicorn server running the app (WebSocket tests)."""
    kwargs.setdefault("wall_clock", app.state.container.clock.now)  # as make_api's
    async with serve(app) as host, CanteenClient(f"http://{host}", **kwargs) as api:
        yield api


def make_api(app: Any, **kwargs: Any) -> tuple[CanteenClient, Wire]:
    wire = Wire(httpx.ASGITransport(app=app, raise_app_exceptions=False))
    kwargs.setdefault("sleep", RecordingSleep())
    # The device's time of day is the server's (a test run's clock is shifted: stack.py).
    kwargs.setdefault("wall_clock", app.state.container.clock.now)
    return CanteenClient("http://testserver", transport=wire, **kwargs), wire
