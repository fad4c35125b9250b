"""Sign-in by phone OTP (design §4.1) with the resend timer, and the session."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from canteen_client import CanteenClient, OtpRequested, User, ValidationFailure

PHONE = re.compile(r"^\+[1-9]\d{7,14}$")
OTP = re.compile(r"^\d{6}$")


def normalise_phone(raw: str, default_country: str = "91") -> str | None:
    """`98123 45678` → `+919812345678`; None when it cannot be a phone number.
    The server normalises again (libphonenumber); this only catches typos early."""
    text = re.sub(r"[\s().-]", "", raw or "")
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        text = text.lstrip("0")
        if len(text) == 10:
            text = f"+{default_country}{text}"
        elif len(text) == 12 and text.startswith(default_country):
            text = "+" + text
        else:
            return None
    return text if PHONE.match(text) else None


def tries_left_text(remaining: int, already_said: str | None = None) -> str:
    """ "1 try left.", "2 tries left."; none left means a new code is needed. Empty when
    `already_said` (the API's message on screen) says it already."""
    if remaining <= 0:
        text = "No tries left: ask for a new code."
    else:
        text = f"{remaining} {'try' if remaining == 1 else 'tries'} left."
    if already_said and text.rstrip(".").lower() in already_said.lower():
        return ""
    return text


class AuthState:
    def __init__(self, api: CanteenClient, clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.clock = clock
        self.phone: str | None = None
        self.otp: OtpRequested | None = None
        self._sent_at = 0.0
        self.user: User | None = None
        self._signed_in = False
        self.attempts_remaining: int | None = None

    # ---- OTP ---------------------------------------------------------------------------

    async def request_otp(self, raw_phone: str) -> OtpRequested:
        phone = normalise_phone(raw_phone)
        if phone is None:
            raise ValidationFailure(
                400,
                "VALIDATION_ERROR",
                "Enter a valid mobile number",
                [{"field": "phone", "message": "Enter a valid mobile number"}],
            )
        self.otp = await self.api.auth.request_otp(phone)
        self.phone = phone
        self._sent_at = self.clock()
        self.attempts_remaining = None
        return self.otp

    async def resend(self) -> OtpRequested:
        if self.phone is None:
            raise RuntimeError("no code was requested yet")
        return await self.request_otp(self.phone)

    def resend_in(self) -> int:
        """Whole seconds until the code may be sent again (0: now)."""
        if self.otp is None:
            return 0
        left = self.otp.resend_after - (self.clock() - self._sent_at)
        return max(0, int(left + 0.999))

    def expires_in(self) -> int:
        if self.otp is None:
            return 0
        return max(0, int(self.otp.expires_in - (self.clock() - self._sent_at)))

    def change_number(self) -> None:
        self.otp = None
        self.attempts_remaining = None

    async def verify(self, code: str) -> User:
        code = (code or "").strip()
        if self.phone is None:
            raise RuntimeError("request a code first")
        if not OTP.match(code):
            raise ValidationFailure(
                400,
                "VALIDATION_ERROR",
                "Enter the 6-digit code",
                [{"field": "otp", "message": "Enter the 6-digit code"}],
            )
        try:
            session = await self.api.auth.verify_otp(self.phone, code)
        except ValidationFailure as exc:
            counts = [d["attempts_remaining"] for d in exc.details if "attempts_remaining" in d]
            if counts and isinstance(counts[0], int):
                self.attempts_remaining = counts[0]
            elif "otp" in exc.field_errors:
                # Refused without a count (too many tries, expired): this code is spent, and
                # the API's message says what to do; an old count would contradict it.
                self.attempts_remaining = None
            raise
        self.user = session.user
        self._signed_in = True
        self.otp = None
        return session.user

    # ---- the session -------------------------------------------------------------------

    async def restore(self) -> bool:
        """Signed in from a previous run? (tokens in the store; the account from them)."""
        tokens = await self.api.tokens()
        if tokens is None:
            self.forget()
            return False
        self._signed_in = True
        if tokens.user:
            try:
                self.user = User.from_json(tokens.user)
            except (KeyError, TypeError, ValueError):
                self.user = None
        return True

    @property
    def signed_in(self) -> bool:
        return self._signed_in

    async def logout(self) -> None:
        await self.api.auth.logout()
        self.forget()

    def forget(self) -> None:
        """The session is over (logged out, or the SDK signed us out)."""
        self._signed_in = False
        self.user = None
        self.otp = None
        self.phone = None
