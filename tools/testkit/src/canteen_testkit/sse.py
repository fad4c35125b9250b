"""Reading Server-Sent Events from a streaming httpx response."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx


async def read_sse(
    response: httpx.Response, want: int, timeout: float = 5.0, *, decode: bool = True
) -> list[dict[str, Any]]:
    """The next `want` events (comments skipped) as {field: value}; `data` parsed as JSON
    unless `decode` is False. Fails with TimeoutError if they do not come in `timeout`."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}

    async def read() -> None:
        async for line in response.aiter_lines():
            if line == "":
                if "data" in current:
                    data = json.loads(current["data"]) if decode else current["data"]
                    events.append({**current, "data": data})
                    if len(events) >= want:
                        return
                current.clear()
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                current[key] = value

    await asyncio.wait_for(read(), timeout)
    return events
