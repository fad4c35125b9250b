"""The event bus between processes: Redis pub/sub in production, a direct call embedded."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis

from canteen.realtime.hub import Hub

log = logging.getLogger("canteen.bus")

CHANNEL = "canteen:events"


class EventBus(Protocol):
    async def publish(self, message: dict[str, Any]) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class InProcessBus:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def publish(self, message: dict[str, Any]) -> None:
        self.hub.deliver(message)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisBus:
    """One subscription per process; reconnects with back-off if Redis goes away."""

    def __init__(self, redis: Redis, hub: Hub, channel: str = CHANNEL) -> None:
        self.redis = redis
        self.hub = hub
        self.channel = channel
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def publish(self, message: dict[str, Any]) -> None:
        await self.redis.publish(self.channel, orjson.dumps(message))
        # Deliver locally at once too: this process's clients need not wait for the
        # round trip, and the hub drops the copy that comes back through Redis.
        self.hub.deliver(message)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="redis-bus")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), 5)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.redis.aclose()

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._ready.set()
                delay = 0.5
                async for raw in pubsub.listen():
                    if raw.get("type") != "message":
                        continue
                    try:
                        self.hub.deliver(orjson.loads(raw["data"]))
                    except Exception:
                        log.exception("bad message on the event bus")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("event bus subscription lost; reconnecting in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
