"""Helpers the app's tests share."""

from __future__ import annotations

import itertools
import os

from app_harness import Api
from canteen_app.state.app_state import AppState

_phones = itertools.count(1)


def new_phone() -> str:
    """A fresh customer per test (the OTP limits are per phone)."""
    return f"+9197{os.getpid() % 1000:03d}{next(_phones):05d}"


async def sign_in(state: AppState, api: Api, phone: str | None = None) -> str:
    """OTP sign-in through the app's state, the code read from the dev outbox."""
    phone = phone or new_phone()
    before = api.sms_count(phone)
    await state.auth.request_otp(phone)
    code = api.latest_otp(phone, after=before)
    await state.auth.verify(code)
    await state.signed_in()
    return phone
