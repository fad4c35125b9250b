"""Hold many idle order-tracking WebSockets open (a separate process on the load core).

    python -m bench.ws_holders --ws-base ws://127.0.0.1:P/api/v1 --token T \
        --orders orders.txt [--concurrency 64]

Reads commands on stdin, one per line, and answers on stdout with one JSON line each:

    open N     open sockets until N are held (spread round-robin over the order ids)
    stats      {"held", "failed", "closed_by_server", "messages"}
    close      close every socket and exit

Each socket is `websockets`' asyncio client without compression (like the app's
clients: the server disables per-message deflate); it reads and drops every message
(the snapshot, `{"type": "ping"}`) and answers protocol pings automatically.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from canteen.core import heap


class Holder:
    def __init__(self, ws_base: str, token: str, orders: list[str], concurrency: int) -> None:
        self.ws_base = ws_base
        self.token = token
        self.orders = orders
        self.concurrency = concurrency
        self.sockets: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.failed = 0
        self.closed_by_server = 0
        self.messages = 0
        self.errors: dict[str, int] = {}
        self.next_index = 0

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for _ in ws:
                self.messages += 1
        if not getattr(self, "closing", False):
            self.closed_by_server += 1

    async def _open_one(self, index: int) -> None:
        order_id = self.orders[index % len(self.orders)]
        url = f"{self.ws_base}/ws/orders/{order_id}?token={self.token}"
        for attempt in range(3):
            try:
                ws = await connect(
                    url,
                    compression=None,
                    open_timeout=30,
                    max_queue=4,
                    ping_interval=None,  # the server pings; we answer
                    close_timeout=2,
                )
            except Exception as exc:
                name = type(exc).__name__
                self.errors[name] = self.errors.get(name, 0) + 1
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            self.sockets.append(ws)
            self.readers.append(asyncio.create_task(self._read(ws)))
            return
        self.failed += 1

    async def open(self, target: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        cpu0 = sum(os.times()[:2])
        want = target - len(self.sockets)
        sem = asyncio.Semaphore(self.concurrency)

        async def one(i: int) -> None:
            async with sem:
                await self._open_one(i)

        indices = list(range(self.next_index, self.next_index + max(0, want)))
        self.next_index += len(indices)
        await asyncio.gather(*(one(i) for i in indices))
        wall = loop.time() - t0
        return {
            **self.stats(),
            "seconds": round(wall, 2),
            "cpu_pct": round(100 * (sum(os.times()[:2]) - cpu0) / max(wall, 1e-9), 1),
        }

    def stats(self) -> dict[str, Any]:
        held = sum(1 for ws in self.sockets if ws.state.name == "OPEN")
        return {
            "held": held,
            "failed": self.failed,
            "closed_by_server": self.closed_by_server,
            "messages": self.messages,
            "errors": self.errors,
        }

    async def close(self) -> None:
        self.closing = True
        for chunk in range(0, len(self.sockets), 500):
            await asyncio.gather(
                *(ws.close() for ws in self.sockets[chunk : chunk + 500]),
                return_exceptions=True,
            )
        for task in self.readers:
            task.cancel()


async def main_async(args: argparse.Namespace) -> None:
    with open(args.orders) as f:  # noqa: ASYNC230 - before the loop has work
        orders = [line.strip() for line in f if line.strip()]
    holder = Holder(args.ws_base, args.token, orders, args.concurrency)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def say(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    while True:
        line = (await reader.readline()).decode().strip()
        if not line or line == "close":
            await holder.close()
            say({"closed": True})
            return
        command, _, arg = line.partition(" ")
        if command == "open":
            say(await holder.open(int(arg)))
        elif command == "stats":
            say(holder.stats())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ws-base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--orders", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    heap.freeze_startup_heap()  # as bench.run: no full collection of the imports mid-run
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
