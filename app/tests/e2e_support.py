"""What the browser tests share: Debian's Chromium, and how a person's taps and typing
reach the Flutter app (through its accessibility tree)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from app_harness import Api

CHROMIUM = os.environ.get("CANTEEN_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT = 20_000  # ms, per step


def open_app(page: Page, url: str) -> None:
    """Load the Flutter app and switch on its accessibility tree."""
    page.goto(url)
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
    page.locator("flt-semantics-placeholder").dispatch_event("click")


def type_into(page: Page, label: str, text: str) -> None:
    """Type as a person would (Flutter reads key events, not DOM value changes)."""
    box = page.get_by_role("textbox", name=label)
    for _ in range(3):
        box.click()
        page.wait_for_timeout(200)
        page.keyboard.type(text)
        try:
            expect(box).to_have_value(text, timeout=2000)
            page.wait_for_timeout(300)  # the last keystrokes reach the app's server
            return
        except AssertionError:
            box.click()
            page.keyboard.press("Control+A")
            page.keyboard.press("Delete")
    expect(box).to_have_value(text)


def button(page: Page, name: str | re.Pattern[str]) -> Any:
    return page.get_by_role("button", name=name).first


def see(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_text(text).first).to_be_visible()


def snap(page: Page, shots: Path, name: str) -> None:
    page.wait_for_timeout(700)  # let the last frame paint
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"app-{name}.png"))


def sign_in_in_browser(page: Page, api: Api, phone: str) -> None:
    """The login screen is showing: sign in with the OTP from the dev outbox."""
    expect(page.get_by_text("Order from the campus canteen")).to_be_visible()
    before = api.sms_count(phone)
    type_into(page, "Mobile number", phone[3:])
    button(page, "Send code").click()
    expect(page.get_by_text(f"We sent a code to {phone}.")).to_be_visible()
    type_into(page, "6-digit code", api.latest_otp(phone, after=before))
    button(page, "Verify and sign in").click()
