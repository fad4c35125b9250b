"""The event bus between processes: Redis pub/sub in production, a direct call embedded."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from canteen.core.db import utcnow
from canteen.realtime.hub import Hub

log = logging.getLogger("canteen.bus")

CHANNEL = "canteen:events"
# Re-subscribing is a cheap attempt; a long back-off only delays the catch-up.
RECONNECT_FIRST = 0.5
RECONNECT_MAX = 5.0
# A frozen Redis (or a network that drops packets) never closes the connection: without
# these a publish, and the dispatcher with it, would wait forever, and the subscription
# would look alive. After IDLE_SECONDS of silence the subscription pings; no answer in
# as long again means it is lost.
COMMAND_TIMEOUT = 3.0
IDLE_SECONDS = 5.0


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
    """One subscription per process; reconnects with back-off if Redis goes away, then
    catches up from the event log before going live (issue 13, point 10)."""

    def __init__(self, redis: Redis, hub: Hub, channel: str = CHANNEL) -> None:
        self.redis = redis
        self.hub = hub
        self.channel = channel
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def publish(self, message: dict[str, Any]) -> None:
        # Deliver locally first: this process's clients need not wait for the round trip,
        # nor for Redis to come back when it is down (the dispatcher retries the publish);
        # the hub drops the copies that come again.
        self.hub.deliver(message)
        async with asyncio.timeout(COMMAND_TIMEOUT):
            await self.redis.publish(self.channel, orjson.dumps(message))

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
        delay = RECONNECT_FIRST
        lost_at: datetime | None = None  # when the subscription was lost, until it is back
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                await self._confirmed(pubsub)
                # Subscribed: whatever is published from now on reaches this process. What
                # was published while it was not subscribed (Redis restarted, or another
                # process published before this one came back) is in the event log:
                # deliver it before the live messages, which wait in the connection.
                caught_up = await self.hub.catch_up(lost_at)
                if lost_at is not None:
                    log.info("event bus subscription back; %d missed events delivered", caught_up)
                lost_at = None
                self._ready.set()
                delay = RECONNECT_FIRST
                pinged = False
                while True:
                    raw = await pubsub.get_message(timeout=IDLE_SECONDS)
                    if raw is None:
                        if pinged:
                            raise ConnectionError("no answer from Redis on the event bus")
                        await pubsub.ping()
                        pinged = True
                        continue
                    pinged = False
                    if raw.get("type") != "message":
                        continue  # pong, subscribe confirmations
                    try:
                        self.hub.deliver(orjson.loads(raw["data"]))
                    except Exception:
                        log.exception("bad message on the event bus")
            except asyncio.CancelledError:
                raise
            except Exception:
                if lost_at is None:
                    lost_at = utcnow()
                log.warning("event bus subscription lost; reconnecting in %.1fs", delay)
                # Until it is back, follow the event log at each attempt instead.
                try:
                    await self.hub.catch_up(lost_at, live=False)
                except Exception:
                    log.warning("could not read the event log either", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    @staticmethod
    async def _confirmed(pubsub: PubSub) -> None:
        """Wait until Redis confirms the subscription: only from then on is nothing missed,
        so the catch-up must not start earlier."""
        async with asyncio.timeout(COMMAND_TIMEOUT):
            while True:
                raw = await pubsub.get_message(timeout=COMMAND_TIMEOUT)
                if raw is not None and raw.get("type") == "subscribe":
                    return
