""" "Your order is ready" while the app is open, whichever screen is showing.

Phones get a push for it (the backend sends it); a browser gets nothing unless the app
itself is listening. `ReadyWatcher` follows each of the student's open orders with the
SDK's `OrderTracker` (the same WebSocket the tracking screen uses, polling as its
fallback) and tells its listeners once per order when the order is there to collect:
ready at the counter for pickup, out for delivery for delivery. The screen draws a
banner and plays a sound.

Only a change seen live alerts: an order that was already ready when the app opened
does not ring again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from canteen_client import CanteenClient, CanteenError, Order

log = logging.getLogger("canteen_app.alerts")

# The status at which the student has to act, by order type.
READY_STATUS = {"pickup": "ready", "delivery": "out_for_delivery"}


@dataclass(frozen=True)
class ReadyAlert:
    order_id: str
    number: str
    order_type: str

    @property
    def text(self) -> str:
        if self.order_type == "delivery":
            return f"Your order {self.number} is on its way"
        return f"Your order {self.number} is ready for pickup"


def is_ready(order_type: str, status: str) -> bool:
    return READY_STATUS.get(order_type, "ready") == status


class ReadyWatcher:
    def __init__(self, api: CanteenClient, *, poll_interval: float = 5.0) -> None:
        self.api = api
        self.poll_interval = poll_interval
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._alerted: set[str] = set()
        self._listeners: list[Callable[[ReadyAlert], None]] = []

    def on_ready(self, listener: Callable[[ReadyAlert], None]) -> None:
        self._listeners.append(listener)

    @property
    def watching(self) -> set[str]:
        return {order_id for order_id, task in self._tasks.items() if not task.done()}

    def watch(self, order: Order) -> None:
        """Follow `order` until it is finished (no-op if already followed or finished)."""
        if order.is_terminal or order.id in self.watching:
            return
        if is_ready(order.order_type, order.status):
            self._alerted.add(order.id)  # ready before we looked: no alert
        self._tasks[order.id] = asyncio.create_task(
            self._follow(order), name=f"ready-watch-{order.id}"
        )

    def watch_all(self, orders: Iterable[Order]) -> None:
        for order in orders:
            self.watch(order)

    async def watch_open_orders(self) -> None:
        """Follow the student's unfinished orders (the newest page of the history)."""
        try:
            page = await self.api.orders.orders(page=1, per_page=20)
        except CanteenError as exc:
            log.info("could not list orders to watch: %s", exc)
            return
        self.watch_all(page.items)

    async def _follow(self, order: Order) -> None:
        try:
            async with self.api.track(order.id, poll_interval=self.poll_interval) as tracker:
                async for state in tracker:
                    if is_ready(order.order_type, state.status):
                        self._ready(order, state.order)
        except CanteenError as exc:
            log.info("stopped watching %s: %s", order.number, exc)

    def _ready(self, order: Order, latest: Order | None) -> None:
        if order.id in self._alerted:
            return
        self._alerted.add(order.id)
        alert = ReadyAlert(order.id, (latest or order).number, order.order_type)
        for listener in list(self._listeners):
            try:
                listener(alert)
            except Exception:
                log.exception("a ready listener failed")

    async def stop(self) -> None:
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, CanteenError):
                await task
