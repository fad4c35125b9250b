"""Idempotent placement (canteen.orders.idempotency): the key, the request's fingerprint and
the store's claim / release.

The store runs on both real key-value stores: the in-process `MemoryStore` the embedded
backend uses, and Redis (`RedisStore`) — the one at CANTEEN_TEST_REDIS (or
redis://127.0.0.1:6379) in database 14, which no other suite uses, or else a private
redis-server started for the test. Every key is under a fresh user id, so runs sharing a
server never meet.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from canteen.core.errors import AppError, ValidationFailed
from canteen.core.kv import KeyValueStore, MemoryStore, RedisStore
from canteen.orders.idempotency import (
    CLAIM_TTL,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    IdempotencyStore,
    fingerprint,
    parse_key,
)

REDIS_DB = 14
BODY = {"slot_id": "lunch", "items": [{"item_id": "dosa", "quantity": 2}], "payment": "upi"}


# ---------------------------------------------------------------- parse_key


@pytest.mark.parametrize("raw", [None, "", "   ", "\t"])
def test_a_missing_key_is_refused(raw):
    with pytest.raises(ValidationFailed) as caught:
        parse_key(raw)
    exc = caught.value
    assert (exc.status_code, exc.code) == (400, "VALIDATION_ERROR")
    assert exc.message == "X-Idempotency-Key header is required to place an order"
    assert exc.details == [
        {
            "field": "X-Idempotency-Key",
            "issue": "missing",
            "message": "Send a new UUID per checkout attempt and reuse it on retries",
        }
    ]


@pytest.mark.parametrize(
    "raw",
    [
        "two words",  # a space inside
        "caf\u00e9",  # not ASCII
        "tab\there",
        "bell\x07",
        "x" * 256,  # too long
        '""',  # a quoted empty string
        '"x' + "y" * 255 + '"',  # too long once unquoted
    ],
)
def test_an_invalid_key_is_refused(raw):
    with pytest.raises(ValidationFailed) as caught:
        parse_key(raw)
    exc = caught.value
    assert (exc.status_code, exc.code) == (400, "VALIDATION_ERROR")
    assert exc.message == "X-Idempotency-Key is not valid"
    assert exc.details == [
        {
            "field": "X-Idempotency-Key",
            "issue": "invalid",
            "message": "1 to 255 visible ASCII characters",
        }
    ]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("3f2b9c4e-7d1a-4c2e-9f0b-1a2b3c4d5e6f", "3f2b9c4e-7d1a-4c2e-9f0b-1a2b3c4d5e6f"),
        ('"quoted-sf-string"', "quoted-sf-string"),  # RFC 8941, as the IETF draft sends it
        ("  padded  ", "padded"),
        ("x" * 255, "x" * 255),
        ("!~", "!~"),
        ('"', '"'),  # one quote is a visible character, not a quoted string
    ],
)
def test_a_valid_key_is_accepted(raw, key):
    assert parse_key(raw) == key


# ---------------------------------------------------------------- fingerprint


def test_the_fingerprint_is_the_sha256_of_the_canonical_json():
    canonical = b'{"items":[{"item_id":"dosa","quantity":2}],"payment":"upi","slot_id":"lunch"}'
    assert fingerprint(BODY) == hashlib.sha256(canonical).hexdigest()
    assert fingerprint(BODY) == fingerprint(json.loads(json.dumps(BODY)))


def test_the_fingerprint_ignores_key_order_at_every_depth():
    shuffled = {
        "payment": "upi",
        "items": [{"quantity": 2, "item_id": "dosa"}],
        "slot_id": "lunch",
    }
    assert fingerprint(shuffled) == fingerprint(BODY)


@pytest.mark.parametrize(
    "other",
    [
        {**BODY, "payment": "cash"},
        {**BODY, "items": [{"item_id": "dosa", "quantity": 3}]},
        {**BODY, "notes": "no onion"},
        {k: v for k, v in BODY.items() if k != "payment"},
        # The lines' order is the request's: a different order is a different request.
        {**BODY, "items": [{"item_id": "idli", "quantity": 1}, *BODY["items"]]},
        {**BODY, "items": [*BODY["items"], {"item_id": "idli", "quantity": 1}]},
    ],
)
def test_another_body_has_another_fingerprint(other):
    assert fingerprint(other) != fingerprint(BODY)


def test_values_json_cannot_hold_are_fingerprinted_as_text():
    item = uuid.UUID("12345678-1234-5678-1234-567812345678")
    body = {"item": item, "day": date(2026, 2, 13)}
    assert fingerprint(body) == fingerprint({"item": str(item), "day": "2026-02-13"})


# ---------------------------------------------------------------- the store


async def _reachable(url: str) -> bool:
    probe = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(await probe.ping())
    except (RedisConnectionError, OSError):
        return False
    finally:
        await probe.aclose()


@pytest.fixture(params=["memory", "redis"])
async def kv(request: pytest.FixtureRequest) -> AsyncIterator[KeyValueStore]:
    if request.param == "memory":
        store: KeyValueStore = MemoryStore()
    else:
        base = os.environ.get("CANTEEN_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/")
        url = f"{base}/{REDIS_DB}"
        if not await _reachable(url):
            url = request.getfixturevalue("private_redis").url(REDIS_DB)
        store = RedisStore(Redis.from_url(url, socket_timeout=2))
    yield store
    if isinstance(store, RedisStore):  # leave the shared server as it was found
        for made in _USERS:
            keys = [k async for k in store.redis.scan_iter(match=f"idem:{made}:*")]
            if keys:
                await store.redis.delete(*keys)
    _USERS.clear()
    await store.close()


_USERS: list[uuid.UUID] = []


def new_user() -> uuid.UUID:
    _USERS.append(uuid.uuid4())
    return _USERS[-1]


@pytest.fixture
def user() -> uuid.UUID:
    return new_user()


async def _record(kv: KeyValueStore, user: uuid.UUID, key: str) -> dict[str, str] | None:
    raw = await kv.get(IdempotencyStore._key(user, key))
    return None if raw is None else json.loads(raw)


async def test_a_first_claim_owns_the_key_for_a_short_while(kv, user):
    store, h, order_id = IdempotencyStore(kv), fingerprint(BODY), uuid.uuid4()
    claim = await store.claim(user, "k1", h, order_id)
    assert claim.owned and claim.order_id is None
    assert await _record(kv, user, "k1") == {"h": h, "o": str(order_id)}
    # Short, so a request that crashed frees its key on its own; after it, the order row
    # answers for the key (tests/api/test_orders_placement.py).
    assert 0 < await kv.ttl(IdempotencyStore._key(user, "k1")) <= CLAIM_TTL


async def test_the_key_is_stored_hashed_under_the_user(kv, user):
    key = IdempotencyStore._key(user, "secret-key")
    assert key == f"idem:{user}:{hashlib.sha256(b'secret-key').hexdigest()}"
    assert "secret-key" not in key


async def test_a_second_claim_learns_the_order_the_first_is_placing(kv, user):
    store, h, order_id = IdempotencyStore(kv), fingerprint(BODY), uuid.uuid4()
    await store.claim(user, "k1", h, order_id)
    for _ in range(3):  # every retry is pointed at the same order, never a new one
        claim = await store.claim(user, "k1", h, uuid.uuid4())
        assert (claim.owned, claim.order_id) == (False, order_id)
    assert await _record(kv, user, "k1") == {"h": h, "o": str(order_id)}  # unchanged


async def test_concurrent_claims_give_the_key_to_exactly_one(kv, user):
    store, h = IdempotencyStore(kv), fingerprint(BODY)
    ids = [uuid.uuid4() for _ in range(20)]
    outcomes = await asyncio.gather(*(store.claim(user, "race", h, i) for i in ids))
    owned = [i for i, o in zip(ids, outcomes, strict=True) if o.owned]
    assert len(owned) == 1, outcomes
    assert {o.order_id for o in outcomes if not o.owned} == {owned[0]}


async def test_a_claim_after_the_short_while_owns_the_key_again(kv, user):
    store, h = IdempotencyStore(kv), fingerprint(BODY)
    await store.claim(user, "k1", h, uuid.uuid4())
    await kv.delete(IdempotencyStore._key(user, "k1"))  # the minute has passed
    later = uuid.uuid4()
    assert (await store.claim(user, "k1", h, later)).owned
    assert await _record(kv, user, "k1") == {"h": h, "o": str(later)}


async def test_a_reused_key_with_another_body_is_refused(kv, user):
    store, h = IdempotencyStore(kv), fingerprint(BODY)
    await store.claim(user, "k1", h, uuid.uuid4())
    before = await kv.get(IdempotencyStore._key(user, "k1"))
    with pytest.raises(IdempotencyKeyReused) as caught:
        await store.claim(user, "k1", fingerprint({**BODY, "payment": "cash"}), uuid.uuid4())
    exc = caught.value
    assert (exc.status_code, exc.code, exc.details) == (422, "IDEMPOTENCY_KEY_REUSED", [])
    assert exc.message == "This idempotency key was used for a different order"
    assert isinstance(exc, AppError)
    assert await kv.get(IdempotencyStore._key(user, "k1")) == before  # nothing overwritten


def test_in_progress_is_a_409_with_the_contract_message():
    exc = IdempotencyInProgress()
    assert (exc.status_code, exc.code, exc.details) == (409, "IDEMPOTENCY_IN_PROGRESS", [])
    assert exc.message == (
        "An order with this idempotency key is still being placed; retry shortly"
    )


async def test_release_frees_the_key_for_a_retry(kv, user):
    store, h = IdempotencyStore(kv), fingerprint(BODY)
    await store.claim(user, "k1", h, uuid.uuid4())
    await store.release(user, "k1")
    assert await _record(kv, user, "k1") is None
    # After a failed attempt the same key may even carry a corrected body.
    other, order_id = fingerprint({**BODY, "payment": "cash"}), uuid.uuid4()
    assert (await store.claim(user, "k1", other, order_id)).owned
    assert await _record(kv, user, "k1") == {"h": other, "o": str(order_id)}


async def test_release_after_failure_parses_the_raw_header_and_never_raises(kv, user):
    store, h = IdempotencyStore(kv), fingerprint(BODY)
    await store.claim(user, "k1", h, uuid.uuid4())
    await store.release_after_failure(user, '"k1"')
    assert await _record(kv, user, "k1") is None
    # A header that never parsed has nothing to free; the original error must stand.
    await store.release_after_failure(user, None)
    await store.release_after_failure(user, "not valid")


async def test_keys_belong_to_their_user(kv, user):
    store, h = IdempotencyStore(kv), fingerprint(BODY)
    other_user, order_id = new_user(), uuid.uuid4()
    await store.claim(user, "shared", h, order_id)
    # Another student's identical key and body is a new order of theirs.
    assert (await store.claim(other_user, "shared", h, uuid.uuid4())).owned
    await store.release(other_user, "shared")
    assert (await store.claim(user, "shared", h, uuid.uuid4())).order_id == order_id
