"""Issue 14 points 3, 4, 5 and 10 as a student meets them, in Chromium against the app
in web mode and the real backend (the admin acts through the API):

- an uploaded photo loads on the menu tile and the item page (the browser fetched it
  from the API's origin, 200), a dish without a photo shows the placeholder;
- with the cart open, pausing orders disables checkout with the reason within 2 s,
  resuming enables it, a dish switched off says so at once; the limits are said;
- a price changed after the cart showed it is asked about before placing, "Back to
  cart" shows the new price, confirming places at the new price.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Response, expect

from app_harness import ADMIN, Api, AppProcess, DemoMenu
from app_support import new_phone
from e2e_support import TIMEOUT, button, open_app, see, sign_in_in_browser, snap

pytestmark = pytest.mark.timeout(240)

LIVE = 2_000  # ms: an open menu, cart or checkout reflects a change within 2 seconds


@pytest.fixture(scope="module")
def student(browser: Browser, app: AppProcess, api: Api) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 420, "height": 900})
    context.set_default_timeout(TIMEOUT)
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


def admin_item(api: Api, item_id: str, **values: Any) -> dict[str, Any]:
    r = api.http.patch(
        f"/admin/menu/items/{item_id}", headers=api.staff(ADMIN).headers, json=values
    )
    r.raise_for_status()
    return r.json()["data"]


def rupees(paise: int) -> str:
    return f"₹{paise // 100:,}"


# ---- 3. photos ---------------------------------------------------------------------------


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 80, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_an_uploaded_photo_shows_on_the_tile_and_the_item_page(
    student: Any, app: AppProcess, api: Api, menu: DemoMenu, shots: Path
) -> None:
    dosa = menu.dishes["Masala Dosa"]
    r = api.http.post(
        f"/admin/menu/items/{dosa}/image",
        files={"file": ("dosa.jpg", photo(), "image/jpeg")},
        headers=api.staff(ADMIN).headers,
    )
    r.raise_for_status()
    item = r.json()["data"]
    thumb = api.backend.origin + item["thumbnail_url"]  # relative on the embedded default
    display = api.backend.origin + item["image_url"]
    loaded: dict[str, int] = {}

    def seen(response: Response) -> None:
        if "/media/" in response.url:
            loaded[response.url] = response.status

    page: Page = student.new_page()
    page.on("response", seen)
    try:
        open_app(page, app.url + "/menu")
        expect(page.get_by_text("Canteen menu")).to_be_visible()
        expect(page.get_by_role("img", name="Photo of Masala Dosa")).to_be_visible()
        # The browser fetched the thumbnail from the API's origin (CORS) and it loaded:
        # a failed load would have put the placeholder ("No photo of …") in its place.
        page.wait_for_timeout(1000)
        assert loaded.get(thumb) == 200, loaded
        expect(page.get_by_role("img", name="No photo of Masala Dosa")).to_have_count(0)
        # A dish without a photo shows the placeholder, not a gap.
        expect(page.get_by_role("img", name="No photo of Masala Chai").first).to_be_visible()
        snap(page, shots, "menu-photo")

        open_app(page, app.url + f"/item/{dosa}")  # the dish's page (a link to it)
        expect(page.get_by_role("button", name=re.compile(r"^Add 1 to cart"))).to_be_visible()
        expect(page.get_by_role("img", name="Photo of Masala Dosa")).to_be_visible()
        deadline = time.monotonic() + 10
        while loaded.get(display) != 200 and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert loaded.get(display) == 200, loaded
        expect(page.get_by_role("img", name="No photo of Masala Dosa")).to_have_count(0)
        snap(page, shots, "item-photo")
    finally:
        page.close()
        api.http.delete(
            f"/admin/menu/items/{dosa}/image", headers=api.staff(ADMIN).headers
        ).raise_for_status()


# ---- 4. live settings and menu; 10. the limits said before checkout --------------------------


def test_an_open_cart_follows_pause_resume_and_a_dish_switched_off(
    student: Any, app: AppProcess, api: Api, menu: DemoMenu
) -> None:
    page = menu_page(student, app)
    try:
        button(page, "Add Masala Chai").click()
        expect(button(page, "Cart (1)")).to_be_visible()
        button(page, "Add Samosa (2 pcs)").click()
        button(page, "Cart (2)").click()
        see(page, "At most 20 items per order · Orders up to ₹2,000")
        checkout = button(page, "Go to checkout")
        expect(checkout).to_be_enabled()
        page.wait_for_timeout(500)  # the live channel is open (it opened with the app)

        api.set_config(ordering_paused=True)
        expect(
            page.get_by_text("The kitchen has paused new orders: checkout comes back when")
        ).to_be_visible(timeout=LIVE)
        expect(checkout).to_be_disabled(timeout=LIVE)
        api.set_config(ordering_paused=False)
        expect(checkout).to_be_enabled(timeout=LIVE)

        api.set_available(menu.dishes["Samosa (2 pcs)"], False)  # the kitchen: none left
        expect(page.get_by_text("Samosa (2 pcs) is sold out")).to_be_visible(timeout=LIVE)
        expect(checkout).to_be_disabled(timeout=LIVE)
        see(page, "Remove Samosa (2 pcs) to check out: not available right now.")
        button(page, "Remove Samosa (2 pcs)").click()
        expect(checkout).to_be_enabled()
        button(page, "Remove Masala Chai").click()  # the next test starts empty
        see(page, "Your cart is empty.")
    finally:
        api.set_config(ordering_paused=False)
        api.set_available(menu.dishes["Samosa (2 pcs)"], True)
        page.close()


# ---- 5. a changed price is asked about ----------------------------------------------------


def test_a_changed_price_is_asked_before_placing(
    student: Any, app: AppProcess, api: Api, menu: DemoMenu
) -> None:
    dosa = menu.dishes["Masala Dosa"]
    old = api.http.get(f"/menu/items/{dosa}").json()["data"]["price"]
    first, second = old + 500, old + 1000
    page = menu_page(student, app)
    try:
        button(page, "Add Masala Dosa").click()
        button(page, "Cart (1)").click()
        see(page, f"{rupees(old)} each")
        button(page, "Go to checkout").click()
        page.get_by_role("radio", name="Cash").click()
        place = button(page, f"Place order · {rupees(old)}")
        expect(place).to_be_visible()

        admin_item(api, dosa, price=first)
        place.click()
        see(page, "Prices have changed")
        see(page, f"Masala Dosa: {rupees(old)} → {rupees(first)}")
        see(page, f"Place order at {rupees(first)}?")
        button(page, "Back to cart").click()
        see(page, f"{rupees(first)} each")  # the cart has the new price now

        admin_item(api, dosa, price=second)
        see(page, f"Price now {rupees(second)} (was {rupees(first)})")  # live, in the cart
        button(page, "Go to checkout").click()
        button(page, f"Place order · {rupees(first)}").click()
        see(page, f"New total: {rupees(second)} (was {rupees(first)})")
        button(page, f"Place order at {rupees(second)}").click()
        see(page, re.compile(r"Pickup code"))
        order_id = page.url.rsplit("/", 1)[1]
        order = api.kitchen_order(order_id)
        assert order["total"] == second, order
    finally:
        admin_item(api, dosa, price=old)
        page.close()


def test_more_than_twenty_of_one_dish_is_refused_in_words(
    student: Any, app: AppProcess, menu: DemoMenu
) -> None:
    page: Page = student.new_page()
    try:
        open_app(page, app.url + f"/item/{menu.dishes['Masala Chai']}")
        more = button(page, "One more Masala Chai")
        for n in range(2, 21):
            more.click()
            expect(button(page, re.compile(rf"^Add {n} to cart"))).to_be_visible()
        more.click()  # the 21st
        see(page, "At most 20 of one dish")
        expect(button(page, re.compile(r"^Add 20 to cart"))).to_be_visible()
    finally:
        page.close()
