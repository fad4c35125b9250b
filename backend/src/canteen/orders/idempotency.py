"""Idempotent order placement (design §6.3; integrations.md §5).

The key-value store holds `idem:{user}:{key}` for a minute from the first request:
  {"h": request_sha256, "o": order_id}   the order that request is placing, by the id it
                                         chose before writing anything
A later request with the key reads the order by that id: there, it is answered with it;
not there (yet), the first is still running. So nothing is written to the store once the
order commits (issue 20: a round trip fewer per order), and a crashed request frees its key
within the minute. After that minute the orders table's unique (customer_id,
idempotency_key) answers: the key is found on the order itself, for good. It answers too
when the store has forgotten early (embedded restart, Redis flush).
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

CLAIM_TTL = 60
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
    """The outcome of claiming a key: we own it, or an earlier request with it is placing
    (or has placed) the order `order_id`."""

    owned: bool
    order_id: uuid.UUID | None = None


class IdempotencyStore:
    def __init__(self, kv: KeyValueStore) -> None:
        self.kv = kv

    @staticmethod
    def _key(user_id: uuid.UUID, key: str) -> str:
        return f"idem:{user_id}:{hashlib.sha256(key.encode()).hexdigest()}"

    async def claim(
        self, user_id: uuid.UUID, key: str, request_hash: str, order_id: uuid.UUID
    ) -> Claim:
        """Own the key for the order `order_id`, or learn which order owns it."""
        kv_key = self._key(user_id, key)
        record = json.dumps({"h": request_hash, "o": str(order_id)})
        if await self.kv.set(kv_key, record, CLAIM_TTL, nx=True):
            return Claim(owned=True)
        raw = await self.kv.get(kv_key)
        if raw is None:  # expired between the two calls: try once more
            if await self.kv.set(kv_key, record, CLAIM_TTL, nx=True):
                return Claim(owned=True)
            raw = await self.kv.get(kv_key)
            if raw is None:
                raise IdempotencyInProgress()
        existing = json.loads(raw)
        if existing["h"] != request_hash:
            raise IdempotencyKeyReused()
        return Claim(owned=False, order_id=uuid.UUID(existing["o"]))

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
