"""Journeys students took in their first week that broke (issue 14), walked in Chromium
against the app in web mode and the real backend.

- two browsers at once are two students with two carts; a private window starts
  signed out; signing out clears that browser only, and nothing lives on the server;
- a declined UPI payment shows at once with "Try UPI again" and "Pay cash instead";
- a wrong OTP is told in words with a grammatical counter;
- a delivery order speaks of the delivery person and cash on delivery;
- a cancelled order says by whom, why, and what happens to the money;
- feedback typed right after tapping a star is all kept;
- "your order is ready" shows as a banner with a sound on any screen;
- icon buttons, the slot picker and the cart bar have names; the cart bar is pinned.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from app_harness import Api, AppProcess, DemoMenu
from app_support import new_phone
from e2e_support import TIMEOUT, button, open_app, see, sign_in_in_browser, snap, type_into

pytestmark = pytest.mark.timeout(240)

# Records every sound the page starts (the app's audio player is an HTMLMediaElement).
SOUND_PROBE = """
window.__canteenSounds = [];
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  window.__canteenSounds.push(this.currentSrc || this.src || "");
  return play.apply(this, arguments);
};
"""


def new_context(browser: Browser, height: int = 900) -> Any:
    context = browser.new_context(viewport={"width": 420, "height": height})
    context.set_default_timeout(TIMEOUT)
    context.add_init_script(SOUND_PROBE)
    return context


@pytest.fixture(scope="module")
def student(browser: Browser, app: AppProcess, api: Api) -> Iterator[Any]:
    """One browser with a signed-in student, for the journeys after sign-in."""
    context = new_context(browser)
    page = context.new_page()
    open_app(page, app.url + "/menu")
    sign_in_in_browser(page, api, new_phone())
    expect(page.get_by_text("Canteen menu")).to_be_visible()
    page.close()
    yield context
    context.close()


def menu_page(context: Any, app: AppProcess) -> Page:
    page: Page = context.new_page()
    open_app(page, app.url + "/menu")
    expect(page.get_by_text("Canteen menu")).to_be_visible()
    return page


def place_order(
    page: Page,
    context: Any,
    dish: str,
    *,
    payment: str = "Cash",
    delivery_to: str | None = None,
) -> tuple[str, Page | None]:
    """Add `dish`, check out and place; returns the order id (and the UPI checkout tab)."""
    button(page, f"Add {dish}").click()
    button(page, "Cart (1)").click()
    button(page, "Go to checkout").click()
    if delivery_to is not None:
        page.get_by_role("radio", name="Delivery").click()
        type_into(page, "Delivery address", delivery_to)
    page.get_by_role("radio", name=payment).click()
    checkout = None
    if payment == "UPI":
        with context.expect_page() as opened:
            button(page, re.compile(r"^Place order and pay with UPI")).click()
        checkout = opened.value
        checkout.wait_for_load_state()
    else:
        button(page, re.compile(r"^Place order · ")).click()
    see(page, re.compile(r"(Pickup|Delivery) code"))
    return page.url.rsplit("/", 1)[1], checkout


# ---- 1. every browser its own student ---------------------------------------------------


def test_two_browsers_are_two_students_with_two_carts(
    browser: Browser, app: AppProcess, api: Api
) -> None:
    first, second = new_context(browser), new_context(browser)
    try:
        a = first.new_page()
        open_app(a, app.url + "/menu")
        sign_in_in_browser(a, api, new_phone())
        expect(a.get_by_text("Canteen menu")).to_be_visible()
        button(a, "Add Masala Dosa").click()
        expect(button(a, "Cart (1)")).to_be_visible()

        b = second.new_page()  # another browser, while the first is open
        open_app(b, app.url + "/menu")
        expect(b.get_by_text("Order from the campus canteen")).to_be_visible()  # signed out
        sign_in_in_browser(b, api, new_phone())
        expect(b.get_by_text("Canteen menu")).to_be_visible()
        expect(button(b, "Cart")).to_be_visible()  # an empty cart, not the first student's
        button(b, "Add Samosa (2 pcs)").click()
        button(b, "Add Masala Chai").click()
        button(b, "Cart (2)").click()
        see(b, "Samosa (2 pcs)")
        expect(b.get_by_text("Masala Dosa")).to_have_count(0)

        a.reload()  # each browser keeps its own cart and session across a reload
        open_app(a, app.url + "/cart")
        see(a, "Masala Dosa")
        expect(a.get_by_text("Samosa (2 pcs)")).to_have_count(0)

        private = browser.new_context(viewport={"width": 420, "height": 900})
        try:  # a private window: no session at all
            p = private.new_page()
            open_app(p, app.url + "/menu")
            expect(p.get_by_text("Order from the campus canteen")).to_be_visible()
        finally:
            private.close()

        open_app(a, app.url + "/menu")  # signing out in the first browser...
        a.get_by_role("button", name="More options").click()
        a.get_by_role("menuitem", name="Sign out").click()
        expect(a.get_by_text("Order from the campus canteen")).to_be_visible()
        open_app(b, app.url + "/cart")  # ...leaves the second one signed in, cart and all
        see(b, "Samosa (2 pcs)")
        see(b, "Masala Chai")
        # Nothing of either student was kept in a file of the app's server.
        assert not [p.name for p in app.data_dir.glob("*") if p.is_file()]
    finally:
        first.close()
        second.close()


# ---- 2. a declined UPI payment ---------------------------------------------------------


def test_failed_upi_payment_offers_upi_again_and_cash(
    student: Any, app: AppProcess, api: Api, shots: Path
) -> None:
    page = menu_page(student, app)
    order_id, checkout = place_order(page, student, "Chicken Roll", payment="UPI")
    assert checkout is not None
    see(page, "Waiting for your payment")
    checkout.get_by_role("button", name="Fail payment").click()
    expect(checkout.get_by_role("heading", name="Payment failed")).to_be_visible()
    checkout.close()
    # Heard live from the gateway's report, without a reload.
    see(page, "Your UPI payment did not go through")
    expect(button(page, "Try UPI again")).to_be_visible()
    expect(button(page, "Pay cash instead")).to_be_visible()
    snap(page, shots, "upi-failed")

    with student.expect_page() as opened:  # Try UPI again opens the checkout again
        button(page, "Try UPI again").click()
    again = opened.value
    again.wait_for_load_state()
    assert "/sandbox/razorpay/checkout/" in again.url
    see(page, "Waiting for your payment")
    again.get_by_role("button", name="Fail payment").click()
    expect(again.get_by_role("heading", name="Payment failed")).to_be_visible()
    again.close()
    see(page, "Your UPI payment did not go through")

    page.reload()  # a reload shows the same failure and the same two ways on
    open_app(page, app.url + f"/orders/{order_id}")
    see(page, "Your UPI payment did not go through")
    button(page, "Pay cash instead").click()
    see(page, "Confirmed: now")
    see(page, "Pay in cash at the counter")
    order = api.kitchen_order(order_id)
    assert (order["status"], order["payment_method"], order["payment_status"]) == (
        "confirmed",
        "cash",
        "cash_due",
    )
    page.close()


# ---- 6. errors in words -----------------------------------------------------------------


def test_wrong_codes_are_told_in_words_with_a_grammatical_counter(
    browser: Browser, app: AppProcess, api: Api
) -> None:
    context = new_context(browser)
    try:
        page = context.new_page()
        open_app(page, app.url + "/menu")
        phone = new_phone()
        before = api.sms_count(phone)
        type_into(page, "Mobile number", phone[3:])
        button(page, "Send code").click()
        right = api.latest_otp(phone, after=before)
        wrong = "000000" if right != "000000" else "111111"
        for left in ("4 tries left", "3 tries left", "2 tries left", "1 try left"):
            type_into_again(page, wrong)
            button(page, "Verify and sign in").click()
            see(page, left)  # the app's counter, or the API's message saying it
            expect(page.get_by_text("mismatch", exact=True)).to_have_count(0)
        for _ in range(2):  # the last try, and one more: the API's words each time
            type_into_again(page, wrong)
            button(page, "Verify and sign in").click()
            see(page, re.compile(r"ask for a new (one|code)", re.IGNORECASE))
            expect(page.get_by_text(re.compile(r"\b1 try left"))).to_have_count(0)  # not stale
        for token in ("mismatch", "expired", "attempts_exceeded", "used"):  # `issue` tokens
            expect(page.get_by_text(token, exact=True)).to_have_count(0)
        for code in ("INVALID_OTP", "OTP_EXPIRED", "OTP_ATTEMPTS_EXCEEDED", "1 tries left"):
            expect(page.get_by_text(code, exact=False)).to_have_count(0)
    finally:
        context.close()


def type_into_again(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="6-digit code")
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    type_into(page, "6-digit code", text)


# ---- 8. delivery orders ------------------------------------------------------------------


def test_a_delivery_order_speaks_of_the_delivery_person(
    student: Any, app: AppProcess, api: Api, shots: Path
) -> None:
    api.set_config(delivery_enabled=True, cash_payment_enabled=True)
    try:
        page = menu_page(student, app)
        place_order(page, student, "Veg Hakka Noodles", delivery_to="Hostel 4, room 212")
        see(page, "Delivery code")
        see(page, "Give this code to the delivery person")
        see(page, "Pay cash on delivery")
        see(page, "Delivered: to come")
        see(page, "Out for delivery: to come")
        for counter in ("Show this code at the counter", "Pay in cash at the counter", "Picked up"):
            expect(page.get_by_text(counter)).to_have_count(0)
        snap(page, shots, "delivery")
        page.close()
    finally:
        api.set_config(delivery_enabled=False)


# ---- 9. cancelled orders ------------------------------------------------------------------


def test_cancelled_orders_say_by_whom_why_and_the_refund(
    student: Any, app: AppProcess, api: Api, shots: Path
) -> None:
    page = menu_page(student, app)  # a cash order the student cancels
    order_id, _ = place_order(page, student, "Masala Dosa")
    button(page, "Cancel order").click()
    page.get_by_role("button", name="Cancel order").last.click()
    see(page, "You cancelled this order")
    see(page, "Nothing to pay")
    expect(page.get_by_text("to come", exact=False)).to_have_count(0)
    expect(page.get_by_text("Pay in cash at the counter")).to_have_count(0)
    assert api.kitchen_order(order_id)["status"] == "cancelled"

    open_app(page, app.url + "/menu")  # a paid UPI order the canteen cancels
    order_id, checkout = place_order(page, student, "Egg Puff", payment="UPI")
    assert checkout is not None
    checkout.get_by_role("button", name="Pay successfully").click()
    expect(checkout.get_by_text("Payment received")).to_be_visible()
    checkout.close()
    see(page, "Confirmed: now")
    api.set_status(order_id, "cancelled", reason="The oven broke down")
    see(page, "The canteen cancelled this order")
    see(page, "Reason: The oven broke down")
    see(page, re.compile(r"Refund(ed)? (of )?₹"))
    see(page, "Placed: done")
    see(page, "Confirmed: done")
    see(page, "Cancelled: now")
    expect(page.get_by_text("to come", exact=False)).to_have_count(0)
    expect(page.get_by_text("Pay in cash", exact=False)).to_have_count(0)
    snap(page, shots, "cancelled")
    page.close()


# ---- 11. feedback typed at once ------------------------------------------------------------


def test_feedback_typed_right_after_tapping_a_star_is_all_kept(
    student: Any, app: AppProcess, api: Api
) -> None:
    """As a sighted student with a mouse: Flutter's accessibility tree is left off (a
    browser turns it on only for a screen reader), so the taps and keys go to the app
    as they do for most students. Where to tap is measured first, with the tree on."""
    page = menu_page(student, app)
    order_id, _ = place_order(page, student, "Gulab Jamun (2 pcs)")
    api.set_status(order_id, "preparing")
    api.set_status(order_id, "ready")
    shown = page.get_by_text(re.compile(r"Pickup code \d{4}")).first.inner_text()
    code = re.search(r"Pickup code (\d{4})", shown).group(1)  # type: ignore[union-attr]
    api.handover(order_id, code)
    expect(page.get_by_text("How was your order?")).to_be_visible()

    def centre(locator: Any) -> tuple[float, float]:
        box = locator.bounding_box()
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    comment = centre(page.get_by_role("textbox", name="Anything to tell the canteen? (optional)"))
    stars = {n: centre(button(page, f"{n} stars")) for n in (3, 5)}
    send = centre(button(page, "Send"))
    url = page.url
    page.close()

    page = student.new_page()  # the same screen, the feedback dialog opens by itself
    page.goto(url)
    page.wait_for_selector("flt-glass-pane", state="attached", timeout=60_000)
    page.wait_for_timeout(5000)  # the app loads the order and opens the dialog
    page.mouse.click(*comment)
    page.wait_for_timeout(300)
    page.keyboard.type("Lovely and warm,")
    page.mouse.click(*stars[3])
    page.keyboard.type(" but a little")  # no pause after the tap: a quick student
    page.mouse.click(*stars[5])
    page.keyboard.type(" too sweet.")
    page.wait_for_timeout(1000)
    page.mouse.click(*send)
    feedback = None
    for _ in range(40):
        feedback = api.kitchen_order(order_id)["feedback"]
        if feedback:
            break
        page.wait_for_timeout(250)
    assert feedback is not None, "the rating was not sent"
    assert feedback["rating"] == 5
    assert feedback["comment"] == "Lovely and warm, but a little too sweet."
    page.close()


# ---- 12. "your order is ready" ------------------------------------------------------------


def test_ready_shows_a_banner_and_plays_a_sound_on_any_screen(
    student: Any, app: AppProcess, api: Api
) -> None:
    page = menu_page(student, app)
    order_id, _ = place_order(page, student, "Masala Chai")
    number = api.kitchen_order(order_id)["number"]
    open_app(page, app.url + "/menu")  # away from the order, browsing the menu
    button(page, "Add Samosa (2 pcs)").click()  # the student has used the page
    api.set_status(order_id, "preparing")
    page.wait_for_timeout(1000)
    assert page.evaluate("window.__canteenSounds.length") == 0  # nothing yet
    api.set_status(order_id, "ready")
    see(page, f"Your order {number} is ready for pickup")
    page.wait_for_function("window.__canteenSounds.length > 0", timeout=TIMEOUT)
    sounds = page.evaluate("window.__canteenSounds")
    assert any("ready.wav" in s for s in sounds), sounds
    button(page, "Track order").click()
    see(page, "Ready for pickup: now")
    page.close()


# ---- 13. names for screen readers, the pinned cart bar ------------------------------------


def test_names_for_screen_readers_and_a_pinned_cart_bar(
    browser: Browser, app: AppProcess, api: Api, menu: DemoMenu
) -> None:
    context = new_context(browser, height=640)  # a phone: the menu is longer than this
    try:
        page = context.new_page()
        open_app(page, app.url + "/menu")
        sign_in_in_browser(page, api, new_phone())
        expect(page.get_by_text("Canteen menu")).to_be_visible()
        for name in ("Refresh menu", "My orders", "More options", "Add Masala Dosa"):
            expect(page.get_by_role("button", name=name).first).to_be_visible()
        expect(page.get_by_role("button", name="Time slot: All day")).to_be_visible()
        expect(page.get_by_role("button", name="More options", exact=True)).to_be_visible()
        button(page, "Add Masala Dosa").click()
        bar = button(page, re.compile(r"^View cart · 1 item · ₹"))
        expect(bar).to_be_in_viewport()  # without scrolling to the end of the menu
        button(page, "One more Masala Dosa").click()
        expect(button(page, re.compile(r"^View cart · 2 items · ₹"))).to_be_in_viewport()
        button(page, re.compile(r"^View cart")).click()
        for name in ("One less Masala Dosa", "One more Masala Dosa", "Remove Masala Dosa"):
            expect(page.get_by_role("button", name=name)).to_be_visible()
    finally:
        context.close()
