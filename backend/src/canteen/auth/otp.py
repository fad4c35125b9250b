"""One-time codes: 6 CSPRNG digits, stored only as an HMAC, single use, bounded tries.

Keys (key-value store, all with TTLs):
  otp:{phone}           {"h": hmac, "exp": epoch}      the live code; a resend replaces it
  otp:tries:{phone}     counter of wrong tries for the live code
  otp:cooldown:{phone}  present while a resend is not yet allowed
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from canteen.auth.errors import InvalidOtp, OtpAttemptsExceeded, OtpExpired
from canteen.core.container import Container
from canteen.core.errors import RateLimited, field_error
from canteen.core.ratelimit import Limit


@dataclass(frozen=True)
class IssuedOtp:
    code: str
    expires_in: int
    resend_after: int


def _digest(secret: str, phone: str, code: str) -> str:
    # Bound to the phone it was sent to (ASVS 6.6.2): the same code for another number fails.
    return hmac.new(secret.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


async def issue_otp(
    c: Container, phone: str, ip: str, http: HTTPConnection | None = None
) -> IssuedOtp:
    s = c.settings
    cooldown_key = f"otp:cooldown:{phone}"
    wait = await c.kv.ttl(cooldown_key)
    if wait > 0:
        raise RateLimited(wait, f"Please wait {wait} seconds before asking for another code")
    await c.ratelimiter.hit(
        Limit("otp-ip", s.otp_requests_per_hour_per_ip, 3600),
        ip,
        http,
        "Too many code requests from this network; try again later",
    )
    await c.ratelimiter.hit(
        Limit("otp-phone", s.otp_sends_per_hour_per_phone, 3600),
        phone,
        http,
        "Too many codes sent to this number; try again later",
    )
    if not await c.kv.set(cooldown_key, "1", s.otp_resend_cooldown_seconds, nx=True):
        raise RateLimited(await c.kv.ttl(cooldown_key) or 1)
    code = f"{secrets.randbelow(1_000_000):06d}"
    record = {
        "h": _digest(s.secret_key, phone, code),
        "exp": int(c.clock.timestamp()) + s.otp_ttl_seconds,
    }
    await c.kv.set(f"otp:{phone}", json.dumps(record), s.otp_ttl_seconds)
    await c.kv.delete(f"otp:tries:{phone}")  # a new code gets a fresh set of tries
    return IssuedOtp(code, s.otp_ttl_seconds, s.otp_resend_cooldown_seconds)


async def consume_otp(c: Container, phone: str, code: str) -> None:
    """Accept the code exactly once, or raise. Wrong tries are counted atomically."""
    s = c.settings
    key = f"otp:{phone}"
    raw = await c.kv.get(key)
    record = json.loads(raw) if raw else None
    tries_key = f"otp:tries:{phone}"
    if record is None or record["exp"] <= c.clock.timestamp():
        await c.kv.delete(key)
        # A code spent by wrong tries says so on every later try, not "expired".
        spent = int(await c.kv.get(tries_key) or 0) >= s.otp_max_attempts
        raise (_too_many_tries() if spent else OtpExpired(details=[field_error("otp", "expired")]))
    tries = await c.kv.incr(tries_key, s.otp_ttl_seconds)
    if tries > s.otp_max_attempts:
        await c.kv.delete(key)
        raise _too_many_tries()
    if not hmac.compare_digest(record["h"], _digest(s.secret_key, phone, code)):
        remaining = s.otp_max_attempts - tries
        if remaining <= 0:
            await c.kv.delete(key)
            raise _too_many_tries()
        raise InvalidOtp(
            f"That code is not right; {remaining} {'try' if remaining == 1 else 'tries'} left",
            details=[field_error("otp", "mismatch", attempts_remaining=remaining)],
        )
    # Single use: only the request that deletes the key wins a race between two verifies.
    if await c.kv.delete(key) == 0:
        raise OtpExpired(
            "The code has already been used; ask for a new one",
            details=[field_error("otp", "used")],
        )
    await c.kv.delete(f"otp:tries:{phone}")


def _too_many_tries() -> OtpAttemptsExceeded:
    return OtpAttemptsExceeded(details=[field_error("otp", "attempts_exceeded")])
