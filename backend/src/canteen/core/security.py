"""Access JWTs (HS256 pinned, RFC 8725) and argon2id password hashing."""

from __future__ import annotations

import asyncio
import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from canteen.core.errors import InvalidToken, TokenExpired

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "at+jwt"
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "aud", "iss"]


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    role: str
    jti: str
    expires_at: int


# Tokens this process has verified, with their claims: a student's token is checked once,
# not on every request (issue 20: 40 µs of signature, base64 and JSON work per request).
# Keyed by the whole token, so only the very bytes that passed are trusted; expiry and
# "issued in the future" are still checked against the clock on every use.
VERIFIED_TOKENS = 4096


@dataclass(frozen=True)
class _Verified:
    claims: AccessClaims
    issued_at: int


class TokenCodec:
    def __init__(
        self, secret: str, issuer: str, audience: str, *, remember: int = VERIFIED_TOKENS
    ) -> None:
        self.secret = secret
        self.issuer = issuer
        self.audience = audience
        self._remember = remember
        self._verified: dict[str, _Verified] = {}

    def encode_access(self, user_id: uuid.UUID, role: str, now: datetime, ttl: int) -> str:
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ttl)).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            payload, self.secret, algorithm=ALGORITHM, headers={"typ": ACCESS_TOKEN_TYPE}
        )

    def decode_access(self, token: str, now: datetime) -> AccessClaims:
        verified = self._verified.get(token)
        if verified is None:
            verified = self._verify(token)
            if len(self._verified) >= self._remember:
                del self._verified[next(iter(self._verified))]  # the oldest
            self._verified[token] = verified
        seconds = int(now.timestamp())
        if verified.claims.expires_at <= seconds:
            raise TokenExpired()
        if verified.issued_at > seconds + 30:
            raise InvalidToken("The token was issued in the future")
        return verified.claims

    def _verify(self, token: str) -> _Verified:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != ACCESS_TOKEN_TYPE:
                raise InvalidToken("The token is not an access token")
            # Expiry is checked against the injectable clock in decode_access.
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidToken("The token is not valid") from exc
        try:
            user_id = uuid.UUID(claims["sub"])
            expires_at, issued_at = int(claims["exp"]), int(claims["iat"])
        except (ValueError, TypeError) as exc:
            raise InvalidToken("The token is not valid") from exc
        role = claims.get("role")
        if not isinstance(role, str):
            raise InvalidToken("The token is not valid")
        access = AccessClaims(user_id=user_id, role=role, jti=claims["jti"], expires_at=expires_at)
        return _Verified(access, issued_at)


_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@functools.cache
def _dummy_hash() -> str:
    # Made on first use, not at import: an argon2 hash costs every process (API, worker,
    # beat, CLI) CPU and 64 MiB at start, and most never verify a password.
    return _hasher.hash("canteen-dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-ish time whether or not the account exists: always run one argon2 verify."""
    try:
        return (
            _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    # argon2 is deliberately slow: keep it off the event loop.
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)
