"""Fixed-window rate limits on the key-value store, reported in response headers."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from canteen.core.clock import Clock
from canteen.core.errors import RateLimited
from canteen.core.kv import KeyValueStore


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window: int  # seconds


class RateLimiter:
    def __init__(self, kv: KeyValueStore, clock: Clock) -> None:
        self.kv = kv
        self.clock = clock

    async def hit(
        self,
        limit: Limit,
        ident: str,
        conn: HTTPConnection | None = None,
        message: str | None = None,
    ) -> int:
        """Count one hit; raise RATE_LIMITED past the limit. Returns the remaining count.

        When `conn` is given, the tightest limit seen so far is exposed as
        X-RateLimit-Remaining / X-RateLimit-Reset by the request middleware.
        """
        now = int(self.clock.timestamp())
        window_start = now - now % limit.window
        reset = window_start + limit.window
        count = await self.kv.incr(f"rl:{limit.name}:{ident}:{window_start}", limit.window + 1)
        remaining = max(0, limit.limit - count)
        if conn is not None:
            state = conn.scope.setdefault("state", {})
            current = state.get("ratelimit")
            if current is None or remaining <= current[0]:
                state["ratelimit"] = (remaining, reset)
        if count > limit.limit:
            raise RateLimited(reset - now, message)
        return remaining


def client_ip(conn: HTTPConnection, trust_forwarded_for: bool) -> str:
    if trust_forwarded_for:
        forwarded = conn.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return conn.client.host if conn.client else "unknown"
