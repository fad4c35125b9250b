"""Webhook delivery: at least once, first attempts in emission order, retries with backoff."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, Literal

import httpx

from canteen_sandbox.base import SandboxState
from canteen_sandbox.entities import Delivery, SandboxEvent, WebhookAttempt


class WebhookDelivery(SandboxState):
    """Sends the events the operations emit to `webhook_url` and records every attempt."""

    def _publish(self, events: Sequence[SandboxEvent]) -> None:
        if not events:
            return
        with self._lock:
            self._events.extend(events)
            url = self.webhook_url
            if url is None:
                return
            self._outstanding += len(events)
        queue = self._ensure_worker()
        for event in events:
            queue.put_nowait(Delivery(event, url))

    def _ensure_worker(self) -> asyncio.Queue[Delivery]:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._deliver_in_order())
        return self._queue

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _take_fault(self, name: Literal["duplicate", "reorder"]) -> bool:
        with self._lock:
            if getattr(self._faults, name) > 0:
                setattr(self._faults, name, getattr(self._faults, name) - 1)
                return True
            return False

    async def _deliver_in_order(self) -> None:
        # One worker makes every first attempt in emission order, so a healthy receiver
        # sees authorized -> captured -> order.paid. Retries run on their own schedule,
        # so a failing event can arrive after later ones, as with Razorpay.
        assert self._queue is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            if self._take_fault("reorder"):
                # Events of one change are queued together; otherwise wait briefly.
                with contextlib.suppress(TimeoutError):
                    batch.insert(0, await asyncio.wait_for(queue.get(), timeout=1.0))
            for delivery in batch:
                duplicate = self._take_fault("duplicate")
                ok = await self._send(delivery, attempt=1)
                if duplicate:
                    await self._send(delivery, attempt=1, duplicate=True)
                if ok:
                    self._done()
                else:
                    self._spawn(self._retry(delivery))

    async def _retry(self, delivery: Delivery) -> None:
        try:
            delay = self.webhook_retry_delay
            for attempt in range(2, self.webhook_max_attempts + 1):
                await asyncio.sleep(delay)
                if await self._send(delivery, attempt=attempt):
                    return
                delay = min(delay * 2, 60.0)
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._outstanding -= 1

    async def _send(self, delivery: Delivery, *, attempt: int, duplicate: bool = False) -> bool:
        event = delivery.event
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Razorpay-Webhook/v1",
            "X-Razorpay-Signature": event.signature,
            "x-razorpay-event-id": event.id,
        }
        if self._http is None:
            # trust_env=False: proxy variables must not swallow localhost deliveries.
            self._http = httpx.AsyncClient(timeout=self.webhook_timeout, trust_env=False)
        status: int | None = None
        error: str | None = None
        try:
            response = await self._http.post(delivery.url, content=event.body, headers=headers)
            status = response.status_code
        except Exception as exc:
            # Any failure (timeout, refused, even a malformed URL) is a failed attempt; the
            # delivery worker itself must survive it.
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._attempts.append(
                WebhookAttempt(
                    event_id=event.id,
                    event=event.event,
                    attempt=attempt,
                    url=delivery.url,
                    body=event.body,
                    headers=headers,
                    status_code=status,
                    error=error,
                    duplicate=duplicate,
                )
            )
        return status is not None and 200 <= status < 300

    async def aclose(self) -> None:
        tasks = [*self._tasks, *([self._worker] if self._worker else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._worker = None
        self._queue = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        with self._lock:
            self._outstanding = 0  # nothing will finish now; do not leave drain() hanging
