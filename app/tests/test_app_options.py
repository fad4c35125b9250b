"""Options on dishes (issue 16) as a student meets them, in Chromium against the app in
web mode and the real backend (the demo canteen's Dosa: a required filling; its biryani:
optional extras):

- a required group keeps "Add" disabled until a choice is made, and says which;
- the price on the button follows the options and the quantity;
- two lines of the same dish with other options stay two lines in the cart, each with its
  options and line total, and the order placed keeps them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from app_harness import Api, AppProcess
from app_support import new_phone
from e2e_support import TIMEOUT, button, open_app, see, sign_in_in_browser, snap

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def student(browser: Browser, app: AppProcess, api: Api) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 420, "height": 1100})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    open_app(page, app.url + "/menu")
    sign_in_in_browser(page, api, new_phone())
    expect(page.get_by_text("Canteen menu")).to_be_visible()
    page.close()
    yield context
    context.close()


def dish(api: Api, name: str) -> dict[str, Any]:
    menu = api.prepare_menu((name,))
    r = api.http.get(f"/menu/items/{menu.dishes[name]}")
    r.raise_for_status()
    data: dict[str, Any] = r.json()["data"]
    return data


def test_options_on_the_item_page_and_in_the_cart(
    student: Any, app: AppProcess, api: Api, shots: Path
) -> None:
    dosa = dish(api, "Dosa")
    filling = dosa["option_groups"][0]
    assert filling["name"] == "Filling" and filling["required"]
    prices = {o["name"]: o["price_delta"] for o in filling["options"]}
    base = dosa["price"]
    masala, cheese = base + prices["Masala"], base + prices["Cheese"]
    page: Page = student.new_page()
    try:
        open_app(page, app.url + f"/item/{dosa['id']}")
        add = button(page, re.compile(r"^Add 1 to cart"))
        expect(add).to_be_visible()
        # The required group blocks "Add" until a filling is chosen, and says so.
        expect(add).to_be_disabled()
        see(page, "Choose Filling to add")
        see(page, "Filling (choose 1, required)")
        page.get_by_role("radio", name=re.compile(r"^Masala")).click()
        add = button(page, f"Add 1 to cart · {rupee(masala)}")
        expect(add).to_be_enabled()
        expect(page.get_by_text("Choose Filling to add")).to_have_count(0)
        button(page, "One more Dosa").click()
        add = button(page, f"Add 2 to cart · {rupee(2 * masala)}")  # the price follows
        snap(page, shots, "item-options")
        add.click()
        expect(button(page, "Cart (2)")).to_be_visible()

        # The same dish with another filling is another line.
        open_app(page, app.url + f"/item/{dosa['id']}")
        page.get_by_role("radio", name=re.compile(r"^Cheese")).click()
        button(page, f"Add 1 to cart · {rupee(cheese)}").click()
        button(page, "Cart (3)").click()
        see(page, "Masala")
        see(page, f"{rupee(masala)} each · {rupee(2 * masala)}")
        see(page, "Cheese")
        see(page, f"{rupee(cheese)} each · {rupee(cheese)}")
        snap(page, shots, "cart-options")

        button(page, "Go to checkout").click()
        page.get_by_role("radio", name="Cash").click()
        button(page, f"Place order · {rupee(2 * masala + cheese)}").click()
        see(page, re.compile(r"Pickup code"))
        order = api.kitchen_order(page.url.rsplit("/", 1)[1])
        lines = [(x["quantity"], [o["name"] for o in x["options"]]) for x in order["items"]]
        assert sorted(lines) == [(1, ["Cheese"]), (2, ["Masala"])], order["items"]
        assert order["total"] == 2 * masala + cheese
    finally:
        page.close()


def rupee(paise: int) -> str:
    rupees, rest = divmod(paise, 100)
    return f"₹{rupees:,}" if rest == 0 else f"₹{rupees:,}.{rest:02d}"
