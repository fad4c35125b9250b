"""Kitchen capacity and ready times (issue 16) as a student meets them, in Chromium against
the app in web mode and the real backend:

- with the kitchen's first windows taken, the menu and the checkout say "Kitchen busy:
  ready around HH:MM" (the server's earliest window with room);
- the checkout's window picker lists the windows with room; the student picks one;
- the order placed has that window, and its tracking screen shows it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from app_harness import ROOMY_KITCHEN, Api, AppProcess
from app_support import new_phone
from e2e_support import TIMEOUT, button, open_app, see, sign_in_in_browser, snap

pytestmark = pytest.mark.timeout(240)
TZ = ZoneInfo("Asia/Kolkata")


def customer_token(api: Api) -> str:
    phone = new_phone()
    before = api.sms_count(phone)
    api.http.post("/auth/request-otp", json={"phone": phone}).raise_for_status()
    r = api.http.post(
        "/auth/verify-otp", json={"phone": phone, "otp": api.latest_otp(phone, after=before)}
    )
    r.raise_for_status()
    token: str = r.json()["data"]["access_token"]
    return token


def windows(api: Api) -> dict[str, Any]:
    r = api.http.get("/menu/windows", params={"time_slot": "allday"})
    r.raise_for_status()
    data: dict[str, Any] = r.json()["data"]
    return data


def hhmm(value: str) -> str:
    return f"{datetime.fromisoformat(value.replace('Z', '+00:00')).astimezone(TZ):%H:%M}"


def place_via_api(api: Api, token: str, dish_id: str) -> dict[str, Any]:
    r = api.http.post(
        "/orders",
        json={
            "items": [{"menu_item_id": dish_id, "quantity": 1}],
            "order_type": "pickup",
            "payment_method": "cash",
            "time_slot": "allday",
        },
        headers={"Authorization": f"Bearer {token}", "X-Idempotency-Key": str(uuid.uuid4())},
    )
    r.raise_for_status()
    data: dict[str, Any] = r.json()["data"]
    return data


@pytest.fixture
def busy_kitchen(api: Api) -> Iterator[dict[str, Any]]:
    """One kitchen minute per window: each order takes a whole window. Another student's
    three orders take the next three, so the earliest with room is later than a dish
    takes: the kitchen is busy."""
    menu = api.prepare_menu(("Masala Chai",))
    api.set_capacity(1)
    token = customer_token(api)
    for _ in range(3):
        place_via_api(api, token, menu.dishes["Masala Chai"])
    data = windows(api)
    assert data["kitchen_busy"] is True, data
    yield {"menu": menu, "windows": data}
    api.set_capacity(ROOMY_KITCHEN)


def test_busy_notice_window_picker_and_the_orders_window(
    busy_kitchen: dict[str, Any], browser: Browser, app: AppProcess, api: Api, shots: Path
) -> None:
    data = busy_kitchen["windows"]
    notice = f"Kitchen busy: ready around {hhmm(data['ready_around'])}"
    picked = data["windows"][1]  # not the earliest: the student chooses a later one
    context = browser.new_context(viewport={"width": 420, "height": 1100})
    context.set_default_timeout(TIMEOUT)
    page: Page = context.new_page()
    try:
        open_app(page, app.url + "/menu")
        sign_in_in_browser(page, api, new_phone())
        expect(page.get_by_text("Canteen menu")).to_be_visible()
        see(page, notice)  # on the menu, before anything is in the cart
        snap(page, shots, "menu-kitchen-busy")

        button(page, "Add Masala Chai").click()
        button(page, "Cart (1)").click()
        button(page, "Go to checkout").click()
        see(page, notice)  # and at checkout
        page.get_by_role("radio", name="Cash").click()
        button(page, re.compile(r"^Pick-up window: Earliest with room")).click()
        option = f"{picked['window']} · ready around {hhmm(picked['ready_around'])}"
        page.get_by_text(option).last.click()
        expect(button(page, f"Pick-up window: {option}")).to_be_visible()
        snap(page, shots, "checkout-window")
        button(page, re.compile(r"^Place order")).click()
        see(page, "Pickup code")
        order = api.kitchen_order(page.url.rsplit("/", 1)[1])
        assert order["pickup_window_start"] == picked["start"], order
        end = hhmm(order["pickup_window_end"])
        see(page, f"Pick-up window {picked['window']} to {end}")
        snap(page, shots, "tracking-window")
    finally:
        context.close()


def test_the_tracking_screen_says_when_the_kitchen_moves_the_time(
    browser: Browser, app: AppProcess, api: Api, shots: Path
) -> None:
    """The kitchen makes this dish in seconds, far quicker than the menu's minutes: once the
    student's order is being prepared, the re-estimate job (every minute) moves its time
    more than 5 minutes sooner, and the open tracking screen says so."""
    menu = api.prepare_menu(("Veg Hakka Noodles",))
    dish = menu.dishes["Veg Hakka Noodles"]
    prep = api.http.get(f"/menu/items/{dish}").json()["data"]["prep_minutes"]
    assert prep > 6, prep  # a move of more than 5 minutes is told
    context = browser.new_context(viewport={"width": 420, "height": 1100})
    context.set_default_timeout(TIMEOUT)
    page: Page = context.new_page()
    try:
        open_app(page, app.url + "/menu")
        sign_in_in_browser(page, api, new_phone())
        button(page, "Add Veg Hakka Noodles").click()
        button(page, re.compile(r"^Cart \(1\)")).click()
        button(page, "Go to checkout").click()
        page.get_by_role("radio", name="Cash").click()
        button(page, re.compile(r"^Place order")).click()
        see(page, "Pickup code")
        order_id = page.url.rsplit("/", 1)[1]
        api.set_status(order_id, "preparing")
        # Another student's noodles, started and ready at once: the measured cooking time.
        other = place_via_api(api, customer_token(api), dish)
        api.set_status(other["id"], "preparing")
        api.set_status(other["id"], "ready")
        banner = page.get_by_text(re.compile(r"^The kitchen changed your ready time: now around"))
        expect(banner).to_be_visible(timeout=100_000)  # the job runs every 60 s
        snap(page, shots, "tracking-eta-changed")
        order = api.kitchen_order(order_id)
        assert f"now around {hhmm(order['estimated_ready_at'])}" in banner.inner_text()
    finally:
        context.close()
