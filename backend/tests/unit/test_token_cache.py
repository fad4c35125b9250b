"""A verified access token is remembered, never trusted beyond what was checked (issue 20)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from canteen.core.errors import InvalidToken, TokenExpired
from canteen.core.security import TokenCodec

SECRET = "a-test-secret-of-a-good-length-0123456789abcdef"
NOW = datetime(2026, 12, 6, 4, 30, tzinfo=UTC)


def _codec() -> TokenCodec:
    return TokenCodec(SECRET, "canteen", "canteen-api")


def test_a_remembered_token_still_expires_by_the_clock():
    codec = _codec()
    user = uuid.uuid4()
    token = codec.encode_access(user, "customer", NOW, ttl=900)
    assert codec.decode_access(token, NOW).user_id == user
    assert codec.decode_access(token, NOW + timedelta(seconds=899)).user_id == user
    with pytest.raises(TokenExpired):
        codec.decode_access(token, NOW + timedelta(seconds=900))


def test_a_remembered_token_issued_in_the_future_stays_refused():
    codec = _codec()
    token = codec.encode_access(uuid.uuid4(), "customer", NOW + timedelta(minutes=5), ttl=900)
    for _ in range(2):  # refused the first time and the second
        with pytest.raises(InvalidToken):
            codec.decode_access(token, NOW)
    # The same token, once its time has come, passes.
    assert codec.decode_access(token, NOW + timedelta(minutes=5)).role == "customer"


def test_a_changed_byte_is_checked_afresh_and_refused():
    codec = _codec()
    token = codec.encode_access(uuid.uuid4(), "customer", NOW, ttl=900)
    codec.decode_access(token, NOW)
    head, body, sig = token.split(".")
    for forged in (f"{head}.{body}.{sig[:-2]}AA", f"{head}.{body}x.{sig}", f"{token} "):
        with pytest.raises(InvalidToken):
            codec.decode_access(forged, NOW)
    # Another process's key never shares this one's memory.
    with pytest.raises(InvalidToken):
        TokenCodec(
            "another-secret-of-a-good-length-0123456789abcdef", "canteen", "canteen-api"
        ).decode_access(token, NOW)


def test_refused_tokens_are_not_remembered_and_the_memory_is_bounded():
    codec = TokenCodec(SECRET, "canteen", "canteen-api", remember=3)
    with pytest.raises(InvalidToken):
        codec.decode_access("not.a.jwt", NOW)
    assert codec._verified == {}
    tokens = [codec.encode_access(uuid.uuid4(), "customer", NOW, ttl=900) for _ in range(5)]
    for token in tokens:
        codec.decode_access(token, NOW)
    assert list(codec._verified) == tokens[-3:]  # the oldest went first
    assert codec.decode_access(tokens[0], NOW).expires_at == int(NOW.timestamp()) + 900
