"""Idempotent order placement (design §6.3; integrations.md §5).

The key-value store holds `idem:{user}:{key}` for 24 h:
  {"s": "in_progress", "h": request_sha256}           while the first request runs (short TTL,
                                                       so a crashed request frees its key)
  {"s": "done", "h": request_sha256, "o": order_id}   once the order is committed
The orders table's unique (customer_id, idempotency_key) backs the store up when it has
forgotten (embedded restart, Redis flush): the key is then found on the order itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from canteen.core.errors import AppError, Conflict, ValidationFailed, field_error
from canteen.core.kv import KeyValueStore

log = logging.getLogger("canteen.orders")

KEY_TTL = 24 * 3600
IN_PROGRESS_TTL = 60
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotencyKeyReused(AppError):
    status_code = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    message = "This idempotency key was used for a different order"


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"
    message = "An order with this idempotency key is still being placed; retry shortly"


def parse_key(raw: str | None) -> str:
    """Accept a bare token or an RFC 8941 sf-string (the IETF draft quotes it)."""
    if raw is None or not raw.strip():
        raise ValidationFailed(
            "X-Idempotency-Key header is required to place an order",
            details=[
                field_error(
                    "X-Idempotency-Key",
                    "missing",
                    "Send a new UUID per checkout attempt and reuse it on retries",
                )
            ],
        )
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not _KEY_RE.match(key):
        raise ValidationFailed(
            "X-Idempotency-Key is not valid",
            details=[
                field_error("X-Idempotency-Key", "invalid", "1 to 255 visible ASCII characters")
            ],
        )
    return key


def fingerprint(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a key: either we own it, or it names an existing order."""

    owned: bool
    order_id: uuid.UUID | None = None


class IdempotencyStore:
    def __init__(self, kv: KeyValueStore) -> None:
        self.kv = kv

    @staticmethod
    def _key(user_id: uuid.UUID, key: str) -> str:
        return f"idem:{user_id}:{hashlib.sha256(key.encode()).hexdigest()}"

    async def claim(self, user_id: uuid.UUID, key: str, request_hash: str) -> Claim:
        kv_key = self._key(user_id, key)
        record = json.dumps({"s": "in_progress", "h": request_hash})
        if await self.kv.set(kv_key, record, IN_PROGRESS_TTL, nx=True):
            return Claim(owned=True)
        raw = await self.kv.get(kv_key)
        if raw is None:  # expired between the two calls: try once more
            if await self.kv.set(kv_key, record, IN_PROGRESS_TTL, nx=True):
                return Claim(owned=True)
            raw = await self.kv.get(kv_key)
            if raw is None:
                raise IdempotencyInProgress()
        existing = json.loads(raw)
        if existing["h"] != request_hash:
            raise IdempotencyKeyReused()
        if existing["s"] != "done":
            raise IdempotencyInProgress()
        return Claim(owned=False, order_id=uuid.UUID(existing["o"]))

    async def complete(
        self, user_id: uuid.UUID, key: str, request_hash: str, order_id: uuid.UUID
    ) -> None:
        record = json.dumps({"s": "done", "h": request_hash, "o": str(order_id)})
        await self.kv.set(self._key(user_id, key), record, KEY_TTL)

    async def release(self, user_id: uuid.UUID, key: str) -> None:
        """A failed attempt keeps nothing: the client may retry the same key."""
        await self.kv.delete(self._key(user_id, key))

    async def release_after_failure(self, user_id: uuid.UUID, raw_key: str | None) -> None:
        """Free the key of a request that failed after placement returned (its commit, or
        the checkout after it), so the client's retry is not told IDEMPOTENCY_IN_PROGRESS
        for a minute. Safe even if the order did commit: the retry then finds it by its key
        on the order row and answers it once. Never raises over the original error."""
        try:
            await self.release(user_id, parse_key(raw_key))
        except Exception:
            log.warning("could not release idempotency key of user %s", user_id, exc_info=True)
