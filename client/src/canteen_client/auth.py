"""Sign-in (design §4): OTP for customers, password for staff; refresh and logout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from canteen_client.errors import CanteenError
from canteen_client.models import OtpRequested, User
from canteen_client.tokens import Tokens

if TYPE_CHECKING:
    from canteen_client.client import CanteenClient


@dataclass(frozen=True, slots=True)
class Session:
    """A new session: the tokens (already saved to the token store) and the account."""

    tokens: Tokens
    user: User


class AuthAPI:
    def __init__(self, client: CanteenClient) -> None:
        self._client = client

    async def request_otp(self, phone: str) -> OtpRequested:
        """Text a 6-digit code to `phone`. Not retried (each call may send an SMS);
        asking again within `resend_after` seconds raises `RateLimitFailure`."""
        data = await self._client.data(
            "POST", "/auth/request-otp", json={"phone": phone}, auth=False, retry=False
        )
        return OtpRequested.from_json(data)

    async def verify_otp(self, phone: str, otp: str) -> Session:
        """Exchange the code for tokens (stored in the token store). Not retried: a code
        is single use. A wrong code raises `ValidationFailure` (INVALID_OTP, with
        `attempts_remaining` in `details`) or OTP_EXPIRED."""
        data = await self._client.data(
            "POST",
            "/auth/verify-otp",
            json={"phone": phone, "otp": otp},
            auth=False,
            retry=False,
        )
        return await self._adopt(data)

    async def staff_login(self, phone: str, password: str) -> Session:
        """Kitchen, delivery and admin accounts sign in with a password."""
        data = await self._client.data(
            "POST",
            "/auth/staff-login",
            json={"phone": phone, "password": password},
            auth=False,
            retry=False,
        )
        return await self._adopt(data)

    async def refresh(self) -> Tokens:
        """Rotate the tokens now; normally the client does this on TOKEN_EXPIRED."""
        return await self._client.refresh()

    async def logout(self) -> None:
        """Revoke the session on the server (best effort), then forget it locally.
        The local sign-out happens even when the server cannot be reached."""
        tokens = await self._client.tokens()
        try:
            if tokens is not None:
                await self._client.request(
                    "POST",
                    "/auth/logout",
                    json={"refresh_token": tokens.refresh_token},
                    auth=False,
                    retry=False,
                )
        except CanteenError:
            pass
        finally:
            await self._client.sign_out_locally("logout")

    async def _adopt(self, data: dict[str, object]) -> Session:
        tokens = self._client._tokens_from_answer(data)
        await self._client.set_tokens(tokens)
        user_json = data.get("user")
        assert isinstance(user_json, dict)
        return Session(tokens=tokens, user=User.from_json(user_json))
