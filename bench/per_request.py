"""API CPU per request, one request at a time, for each request a student's lunch makes
(and the kitchen's for it): where the rush's API core goes, request by request.

    .venv/bin/python -m bench.per_request [--requests 200]

The lunch rush spends about 80 ms of the API's CPU per student, of which the placement is
a few: the sign-in, the settings, the kitchen's three changes of the order, and the work
each of them sets off afterwards (the event dispatcher, the jobs it queues) make up the
rest. Each kind here runs `--requests` times in a row against the bench's stack (one
API worker, Celery, PostgreSQL, a private Redis), after five warm-up requests, and the
API process's CPU time from /proc is divided by the count; a second's pause after each
kind lets the work it set off finish inside its own figure.

The kitchen's changes move the orders placed by the "place cash" kind, so every kind
runs in the order printed. `dev outbox` is the harness's stand-in for reading an SMS
(development only); `verify-otp` reads the outbox first, so its figure includes one.
As with every CPU figure on this shared machine, compare variants by alternating runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import websockets

from bench import actors, infra
from bench.stack import LOADGEN_CPUS, SERVER_CPUS, Stack, stack

API = "/api/v1"
WARM_UP = 5


async def measure(s: Stack, requests: int) -> dict[str, float]:
    pids = s.api_pids()
    out: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=s.base_url, timeout=60) as http:

        async def kind(name: str, call: Callable[[int], Awaitable[None]]) -> None:
            for i in range(WARM_UP):
                await call(-1 - i)  # negative: a warm-up request
            await asyncio.sleep(1.0)
            cpu0 = infra.total_cpu(pids)
            for i in range(requests):
                await call(i)
            await asyncio.sleep(1.0)
            out[name] = round(1000 * (infra.total_cpu(pids) - cpu0) / requests, 2)
            print(f"{name}: {out[name]} ms", flush=True)

        admin = await actors.staff_token(http, actors.ADMIN_PHONE, actors.ADMIN_PASSWORD)
        kitchen = {"Authorization": f"Bearer {await actors.staff_token(http)}"}
        items = await actors.lunch_items(http)
        await actors.refill_stock(http, admin, items)
        items = [i for i in await actors.lunch_items(http) if i.get("daily_stock") is None]
        phones = [f"+9196{70000000 + i:08d}" for i in range(requests)]

        def phone(i: int) -> str:
            return phones[i] if i >= 0 else f"+9197{-i:08d}"

        async def ok(r: httpx.Response) -> Any:
            r.raise_for_status()
            return r.json()

        async def request_otp(i: int) -> None:
            await ok(await http.post(f"{API}/auth/request-otp", json={"phone": phone(i)}))

        async def outbox(i: int) -> None:
            params: dict[str, str | int] = {"channel": "sms", "to": phone(i), "limit": 1}
            await ok(await http.get(f"{API}/dev/outbox", params=params))

        tokens: list[str] = []

        async def verify_otp(i: int) -> None:
            code = await actors.otp_from_outbox(http, phone(i))
            body = {"phone": phone(i), "otp": code}
            data = await ok(await http.post(f"{API}/auth/verify-otp", json=body))
            if i >= 0:
                tokens.append(data["data"]["access_token"])

        async def config(_i: int) -> None:
            await ok(await http.get(f"{API}/config/public"))

        async def menu(_i: int) -> None:
            await ok(await http.get(f"{API}/menu/items"))

        orders: list[tuple[str, str, str]] = []

        async def place_cash(i: int) -> None:
            token = tokens[i % len(tokens)]
            order = await actors.place_cash_order(http, token, items[i % len(items)]["id"])
            if i >= 0:
                orders.append((order["id"], token, order["pickup_code"]))

        async def get_order(i: int) -> None:
            order_id, token, _ = orders[i % len(orders)]
            headers = {"Authorization": f"Bearer {token}"}
            await ok(await http.get(f"{API}/orders/{order_id}", headers=headers))

        upi: list[tuple[str, str, dict[str, Any]]] = []

        async def place_upi(i: int) -> None:
            token = tokens[i % len(tokens)]
            r = await http.post(
                f"{API}/orders",
                json={
                    "items": [{"menu_item_id": items[i % len(items)]["id"], "quantity": 1}],
                    "order_type": "pickup",
                    "payment_method": "upi",
                    "time_slot": "lunch",
                },
                headers={"Authorization": f"Bearer {token}", "X-Idempotency-Key": str(uuid4())},
            )
            order = (await ok(r))["data"]
            if i >= 0:
                upi.append((order["id"], token, order["payment"]))

        async def pay_and_verify(i: int) -> None:
            if i < 0:
                return
            order_id, token, payment = upi[i]
            # The sandbox's CPU is not the API's; the webhook it sends the API is counted.
            paid = await ok(
                await http.post(
                    f"{s.sandbox_url}/sandbox/pay",
                    json={"order_id": payment["gateway_order_id"], "outcome": "success"},
                )
            )
            body = {"order_id": order_id} | {
                key: paid[key]
                for key in ("razorpay_order_id", "razorpay_payment_id", "razorpay_signature")
            }
            headers = {"Authorization": f"Bearer {token}"}
            await ok(await http.post(f"{API}/payments/verify", json=body, headers=headers))

        async def track(i: int) -> None:
            order_id, token, _ = orders[i % len(orders)]
            url = f"ws://127.0.0.1:{s.port}{API}/ws/orders/{order_id}?token={token}"
            async with websockets.connect(url) as socket:
                snapshot = json.loads(await socket.recv())
                assert snapshot["type"] == "order.snapshot", snapshot

        def move(status: str) -> Callable[[int], Awaitable[None]]:
            async def call(i: int) -> None:
                if i >= 0:  # no warm-up: each order moves once
                    url = f"{API}/admin/orders/{orders[i][0]}/status"
                    await ok(await http.patch(url, json={"status": status}, headers=kitchen))

            return call

        async def handover(i: int) -> None:
            if i >= 0:
                order_id, _, code = orders[i]
                url = f"{API}/admin/orders/{order_id}/handover"
                await ok(await http.post(url, json={"pickup_code": code}, headers=kitchen))

        await kind("request-otp", request_otp)
        await kind("dev outbox", outbox)
        await kind("verify-otp (with one outbox read)", verify_otp)
        await kind("config", config)
        await kind("menu (cached)", menu)
        await kind("place cash", place_cash)
        await kind("GET order", get_order)
        await kind("track (socket open to snapshot)", track)
        await kind("place UPI", place_upi)
        await kind("pay at the sandbox, then verify (with the webhook)", pay_and_verify)
        await kind("kitchen: preparing", move("preparing"))
        await kind("kitchen: ready", move("ready"))
        await kind("kitchen: handover", handover)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    infra.set_affinity(LOADGEN_CPUS)
    work = Path(tempfile.mkdtemp(prefix="canteen-per-request-"))
    started = time.time()
    with (
        infra.private_redis(work, SERVER_CPUS) as redis_base,
        stack(workers=1, work=work, redis_base=redis_base) as s,
    ):
        out = asyncio.run(measure(s, args.requests))
    print(json.dumps({"api_cpu_ms_per_request": out, "took_s": round(time.time() - started)}))


if __name__ == "__main__":
    main()
