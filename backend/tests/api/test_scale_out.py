"""Two API processes sharing PostgreSQL and Redis: a change made through one reaches
WebSocket and SSE clients of the other (issue #6, scale-out). Real processes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
import websockets
from live import api_processes
from orders_helpers import order_body, seed_menu

from conftest import API, BACKEND, bearer, login_staff

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="scale-out needs the shared Redis bus of the PostgreSQL run"
)


@pytest.fixture
def two_servers(base_env, settings, celery_worker) -> Iterator[tuple[str, str]]:
    with api_processes(base_env, settings.data_dir) as (a, b):
        yield a.host, b.host


async def _otp_login(http: httpx.AsyncClient, phone: str) -> dict:
    r = await http.post(f"{API}/auth/request-otp", json={"phone": phone})
    assert r.status_code == 200, r.text
    for _ in range(100):
        msgs = (await http.get(f"{API}/dev/outbox", params={"to": phone})).json()["data"]
        if msgs:
            break
        await asyncio.sleep(0.1)
    code = msgs[0]["body"][:6]
    r = await http.post(f"{API}/auth/verify-otp", json={"phone": phone, "otp": code})
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_change_through_one_process_reaches_clients_of_the_other(
    two_servers, client, container
):
    a, b = two_servers
    m = await seed_menu(container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    async with (
        httpx.AsyncClient(base_url=f"http://{a}", timeout=10) as api_a,
        httpx.AsyncClient(base_url=f"http://{b}", timeout=10) as api_b,
    ):
        me = await _otp_login(api_a, "+919876543210")
        r = await api_a.post(
            f"{API}/orders",
            json=order_body((m.dosa, 1)),
            headers={**bearer(me), "X-Idempotency-Key": "scale-out-1"},
        )
        assert r.status_code == 201, r.text
        order = r.json()["data"]
        sse_lines: list[str] = []

        async def read_sse() -> None:
            async with api_b.stream(
                "GET", f"{API}/admin/orders/stream", params={"token": kitchen["access_token"]}
            ) as resp:
                assert resp.status_code == 200
                async for line in resp.aiter_lines():
                    sse_lines.append(line)
                    if line.startswith("data:") and '"preparing"' in line:
                        return

        sse = asyncio.create_task(read_sse())
        url = f"ws://{b}{API}/ws/orders/{order['id']}?token={me['access_token']}"
        async with websockets.connect(url) as ws:
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert snapshot["status"] == "confirmed"
            await asyncio.sleep(0.3)  # the SSE stream is subscribed on B
            r = await api_a.patch(
                f"{API}/admin/orders/{order['id']}/status",
                json={"status": "preparing"},
                headers=bearer(kitchen),
            )
            assert r.status_code == 200, r.text
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if msg.get("type") != "ping":
                    break
            assert msg["type"] == "order.status_changed" and msg["status"] == "preparing"
        await asyncio.wait_for(sse, 5)
        assert any(line == "event: order.status_changed" for line in sse_lines)
