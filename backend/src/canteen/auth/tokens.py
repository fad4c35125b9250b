"""Refresh tokens: opaque, stored hashed, rotated on every use, reuse revokes the family.

RFC 9700 §4.14.2. Keys (key-value store):
  rt:{sha256(token)}     {"u": user_id, "f": family_id, "r": role, "exp": epoch}
  rt:used:{sha256}       set (nx) by the one refresh that consumes the token
  rtf:{family_id}        "revoked" once the family is revoked (logout or theft detected)
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass

from canteen.core.container import Container
from canteen.core.errors import InvalidToken


@dataclass(frozen=True)
class RefreshRecord:
    user_id: uuid.UUID
    family_id: str
    # The role the session was signed in as: a refresh never carries a session into a
    # role it did not sign in with (a customer's OTP session into staff, say).
    role: str | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def mint_refresh(
    c: Container, user_id: uuid.UUID, role: str, family_id: str | None = None
) -> str:
    token = secrets.token_urlsafe(32)
    ttl = c.settings.refresh_token_ttl_seconds
    record = {
        "u": str(user_id),
        "f": family_id or uuid.uuid4().hex,
        "r": role,
        "exp": int(c.clock.timestamp()) + ttl,
    }
    await c.kv.set(f"rt:{_hash(token)}", json.dumps(record), ttl)
    return token


async def rotate_refresh(c: Container, token: str) -> RefreshRecord:
    """Consume `token` once. A second use means it leaked: revoke its whole family."""
    digest = _hash(token)
    raw = await c.kv.get(f"rt:{digest}")
    if raw is None:
        raise InvalidToken("The refresh token is not valid; sign in again")
    record = json.loads(raw)
    family = record["f"]
    ttl = c.settings.refresh_token_ttl_seconds
    if await c.kv.get(f"rtf:{family}") is not None:
        raise InvalidToken("This session has been signed out; sign in again")
    if record["exp"] <= c.clock.timestamp():
        raise InvalidToken("The refresh token has expired; sign in again")
    if not await c.kv.set(f"rt:used:{digest}", "1", ttl, nx=True):
        await c.kv.set(f"rtf:{family}", "revoked", ttl)
        raise InvalidToken(
            "This refresh token was already used; the session has been signed out",
            details=[{"reason": "refresh_token_reused"}],
        )
    return RefreshRecord(uuid.UUID(record["u"]), family, record.get("r"))


async def revoke_refresh(c: Container, token: str) -> bool:
    raw = await c.kv.get(f"rt:{_hash(token)}")
    if raw is None:
        return False
    family = json.loads(raw)["f"]
    await c.kv.set(f"rtf:{family}", "revoked", c.settings.refresh_token_ttl_seconds)
    return True
