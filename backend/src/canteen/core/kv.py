"""Key-value store with TTLs: Redis in production, an in-process store when embedded.

Only the few atomic primitives the services need are exposed, so both backends
can give the same guarantees (claim-once with `set(nx=True)`, counters with `incr`).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Protocol

from redis.asyncio import Redis


class KeyValueStore(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes | str, ttl: int, *, nx: bool = False) -> bool: ...
    async def delete(self, *keys: str) -> int: ...
    async def incr(self, key: str, ttl: int) -> int:
        """Increment; the TTL is set when the key is created and not extended."""
        ...

    async def ttl(self, key: str) -> int: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class RedisStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def get(self, key: str) -> bytes | None:
        value = await self.redis.get(key)
        return value if value is None or isinstance(value, bytes) else str(value).encode()

    async def set(self, key: str, value: bytes | str, ttl: int, *, nx: bool = False) -> bool:
        return bool(await self.redis.set(key, value, ex=max(1, ttl), nx=nx))

    async def delete(self, *keys: str) -> int:
        return int(await self.redis.delete(*keys)) if keys else 0

    async def incr(self, key: str, ttl: int) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, max(1, ttl), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def ttl(self, key: str) -> int:
        return max(0, int(await self.redis.ttl(key)))

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def close(self) -> None:
        await self.redis.aclose()


class MemoryStore:
    """Single-process store; the lock makes each primitive atomic like its Redis twin."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float]] = {}
        self._lock = asyncio.Lock()

    def _live(self, key: str) -> tuple[bytes, float] | None:
        item = self._data.get(key)
        if item and item[1] <= time.monotonic():
            del self._data[key]
            return None
        return item

    async def get(self, key: str) -> bytes | None:
        item = self._live(key)
        return item[0] if item else None

    async def set(self, key: str, value: bytes | str, ttl: int, *, nx: bool = False) -> bool:
        async with self._lock:
            if nx and self._live(key):
                return False
            raw = value.encode() if isinstance(value, str) else value
            self._data[key] = (raw, time.monotonic() + max(1, ttl))
            if len(self._data) > 100_000:
                self._sweep()
            return True

    async def delete(self, *keys: str) -> int:
        async with self._lock:
            return sum(1 for k in keys if self._live(k) and self._data.pop(k, None))

    async def incr(self, key: str, ttl: int) -> int:
        async with self._lock:
            item = self._live(key)
            count = int(item[0]) + 1 if item else 1
            expires = item[1] if item else time.monotonic() + max(1, ttl)
            self._data[key] = (str(count).encode(), expires)
            return count

    async def ttl(self, key: str) -> int:
        item = self._live(key)
        return max(0, math.ceil(item[1] - time.monotonic())) if item else 0

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()

    def _sweep(self) -> None:
        now = time.monotonic()
        for k in [k for k, (_, exp) in self._data.items() if exp <= now]:
            del self._data[k]
