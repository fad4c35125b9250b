"""The student's tracking follows a recall (issue 17, part 6), in Chromium against the app
in web mode and the real backend: the tracking screen is open on a ready order, the
kitchen hands it over by mistake (the screen says picked up and asks for a rating), then
recalls the handover through the API; without reopening anything the screen shows the
order ready again, says why, and the rating is no longer asked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app_harness import KITCHEN, Api, AppProcess
from app_support import new_phone
from canteen_app.state.tracking import recall_text
from e2e_support import TIMEOUT, button, open_app, see, sign_in_in_browser, snap

pytestmark = pytest.mark.timeout(240)


def test_a_recalled_handover_shows_ready_again_on_the_open_tracking_screen(
    browser: Browser, app: AppProcess, api: Api, shots: Path
) -> None:
    context = browser.new_context(viewport={"width": 420, "height": 1000})
    context.set_default_timeout(TIMEOUT)
    page: Page = context.new_page()
    try:
        open_app(page, app.url + "/menu")
        sign_in_in_browser(page, api, new_phone())
        expect(page.get_by_text("Canteen menu")).to_be_visible()
        button(page, "Add Masala Chai").click()
        button(page, "Cart (1)").click()
        button(page, "Go to checkout").click()
        page.get_by_role("radio", name="Cash").click()
        button(page, re.compile(r"^Place order")).click()
        see(page, "Pickup code")
        order_id = page.url.rsplit("/", 1)[1]
        api.set_status(order_id, "preparing")
        api.set_status(order_id, "ready")
        see(page, "Ready for pickup: now")
        shown = page.get_by_text(re.compile(r"Pickup code \d{4}")).first.inner_text()
        code = re.search(r"Pickup code (\d{4})", shown).group(1)  # type: ignore[union-attr]

        api.handover(order_id, code)  # to the wrong student
        expect(page.get_by_text("How was your order?")).to_be_visible()
        r = api.http.post(
            f"/admin/orders/{order_id}/recall",
            json={"reason": "Handed to the wrong student"},
            headers=api.staff(KITCHEN).headers,
        )
        assert r.status_code == 200, r.text

        # Live, on the same screen: no reload, no navigation.
        see(page, "Handed over by mistake: your order is ready again")
        see(page, "Ready for pickup: now")
        expect(page.get_by_text("How was your order?")).to_have_count(0)
        expect(page.get_by_label(f"QR code of the pickup code {code}")).to_be_visible()
        assert page.url.endswith(order_id)
        order = api.kitchen_order(order_id)
        assert (order["status"], order["payment_status"]) == ("ready", "cash_due")
        snap(page, shots, "tracking-recalled")

        # Handed over for real: picked up again, and now the rating is asked.
        api.handover(order_id, code)
        expect(page.get_by_text("How was your order?")).to_be_visible()
        expect(page.get_by_text("Handed over by mistake", exact=False)).to_have_count(0)
    finally:
        context.close()


def test_what_the_screen_says_for_each_recalled_move() -> None:
    assert recall_text("completed", "ready") == "Handed over by mistake: your order is ready again"
    assert (
        recall_text("completed", "out_for_delivery")
        == "Marked delivered by mistake: your order is on its way again"
    )
    assert (
        recall_text("cancelled", "confirmed")
        == "Cancelled by mistake: the kitchen has your order again"
    )
    assert recall_text("ready", "preparing") == (
        "Not ready after all: the kitchen is still preparing it"
    )
    assert recall_text(None, "ready") is None
