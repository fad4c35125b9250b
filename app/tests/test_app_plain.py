"""The app's logic that needs no server: routing, error mapping, filters, the stepper,
the cart's storage, the checkout's rules, push routing."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from canteen_app.state import checkout as co
from canteen_app.state.cart import MAX_QUANTITY, Cart, CartItem
from canteen_app.state.errors import ActionKind, action_for
from canteen_app.state.menu import MenuFilters, choose_slot, filter_items, media_url
from canteen_app.state.push import NoopPushRegistrar, StaticPushRegistrar, route_for_notification
from canteen_app.state.session import normalise_phone
from canteen_app.state.status import BannerKind, banners_for
from canteen_app.state.tracking import eta_text, stepper
from canteen_app.storage import ClientStorage, FileStore, MemoryStore, StoreTokenStore
from canteen_app.ui.router import guard, parse_route, stack_for
from canteen_client import (
    AuthFailure,
    ConflictFailure,
    MenuItem,
    NetworkFailure,
    NotFoundFailure,
    Order,
    PublicConfig,
    RateLimitFailure,
    ServerFailure,
    Tokens,
    ValidationFailure,
)

ORDER_ID = "0b5e0c1e-7d2f-4b39-9f43-1f0c8a1f2b3c"


def item(name: str, **kw: object) -> MenuItem:
    data = {
        "id": kw.pop("id", f"00000000-0000-0000-0000-{abs(hash(name)) % 10**12:012d}"),
        "category_id": kw.pop("category_id", "c1"),
        "name": name,
        "price": kw.pop("price", 5000),
        "diet": kw.pop("diet", "veg"),
        "allergens": kw.pop("allergens", []),
        **kw,
    }
    return MenuItem.from_json(data)


def config(**kw: object) -> PublicConfig:
    data = {
        "delivery_enabled": True,
        "cash_payment_enabled": True,
        "upi_payment_enabled": True,
        "restaurant_open": True,
        "ordering_paused": False,
        "delivery_fee": 2000,
        "timezone": "Asia/Kolkata",
        "time_slots": [
            {
                "code": "breakfast",
                "label": "Breakfast",
                "start_time": "07:30:00",
                "end_time": "10:30:00",
            },
            {"code": "lunch", "label": "Lunch", "start_time": "12:00:00", "end_time": "15:00:00"},
        ],
        "current_time_slot": None,
        **kw,
    }
    return PublicConfig.from_json(data)


# ---- routing -------------------------------------------------------------------------


def test_routes_parse_and_stack() -> None:
    assert parse_route("/").name == "menu"
    assert parse_route("/nowhere").name == "menu"
    r = parse_route(f"/orders/{ORDER_ID}")
    assert (r.name, r.id) == ("tracking", ORDER_ID)
    assert [s.path for s in stack_for(r)] == ["/menu", "/orders", f"/orders/{ORDER_ID}"]
    assert [s.path for s in stack_for(parse_route("/checkout"))] == ["/menu", "/cart", "/checkout"]
    q = parse_route(f"/payment-return?order_id={ORDER_ID}&razorpay_payment_id=pay_1")
    assert q.name == "payment_return" and q.query["razorpay_payment_id"] == "pay_1"
    assert parse_route("/item/not-a-uuid").name == "menu"


def test_guard_sends_strangers_to_login_and_members_away_from_it() -> None:
    assert guard(parse_route("/cart"), signed_in=False) == "/login"
    assert guard(parse_route("/login"), signed_in=False) is None
    assert guard(parse_route("/login"), signed_in=True) == "/menu"
    assert guard(parse_route("/cart"), signed_in=True) is None


# ---- push ----------------------------------------------------------------------------


def test_notification_tap_routes_to_tracking() -> None:
    data = {
        "type": "order_status",
        "order_id": ORDER_ID,
        "status": "ready",
        "click_action": "ORDER_TRACKING",
    }
    assert route_for_notification(data) == f"/orders/{ORDER_ID}"
    assert (
        route_for_notification({**data, "click_action": "order_tracking"}) == f"/orders/{ORDER_ID}"
    )
    assert route_for_notification({**data, "click_action": "OPEN_MENU"}) is None
    assert route_for_notification({**data, "order_id": "../../admin"}) is None
    assert route_for_notification({"click_action": "ORDER_TRACKING"}) is None
    assert route_for_notification(None) is None


async def test_push_registrars() -> None:
    noop = NoopPushRegistrar()
    assert not noop.supported and await noop.get_token() is None
    static = StaticPushRegistrar("tok-1")
    seen: list[object] = []

    async def tapped(data: object) -> None:
        seen.append(route_for_notification(data))  # type: ignore[arg-type]

    static.on_notification_tap(tapped)
    await static.tap({"click_action": "ORDER_TRACKING", "order_id": ORDER_ID})
    assert seen == [f"/orders/{ORDER_ID}"]


# ---- errors (design §11.2) -------------------------------------------------------------


def test_every_failure_maps_to_its_ui_action() -> None:
    headers = httpx.Headers()
    cases = [
        (NetworkFailure("down"), ActionKind.OFFLINE),
        (
            ValidationFailure(
                400,
                "VALIDATION_ERROR",
                "bad",
                [{"field": "delivery_address", "message": "required"}],
            ),
            ActionKind.FIELD_ERRORS,
        ),
        (AuthFailure(401, "INVALID_TOKEN", "no", signed_out=True), ActionKind.SIGN_IN_AGAIN),
        (AuthFailure(403, "INSUFFICIENT_ROLE", "no"), ActionKind.ACCESS_DENIED),
        (NotFoundFailure(404, "NOT_FOUND", "no"), ActionKind.NOT_FOUND),
        (ConflictFailure(409, "RESTAURANT_CLOSED", "closed"), ActionKind.CLOSED),
        (ConflictFailure(409, "ORDERING_PAUSED", "paused"), ActionKind.WAIT_AND_RETRY),
        (ConflictFailure(409, "DELIVERY_DISABLED", "no delivery"), ActionKind.CONFLICT),
        (
            RateLimitFailure(429, "RATE_LIMITED", "slow", retry_after=12.2, headers=headers),
            ActionKind.RATE_LIMITED,
        ),
        (ServerFailure(500, "INTERNAL_ERROR", "boom"), ActionKind.RETRY),
    ]
    for error, kind in cases:
        assert action_for(error).kind is kind, error
    assert action_for(cases[1][0]).field_errors == {"delivery_address": "required"}
    assert action_for(cases[8][0]).message == "Try again in 13 seconds."
    assert action_for(cases[0][0]).retryable and not action_for(cases[4][0]).retryable


def test_a_full_window_and_a_slot_ending_too_soon_are_told_apart() -> None:
    full = ConflictFailure(
        409,
        "SLOT_FULL",
        "The kitchen is full for this time",
        [{"field": "pickup_window", "issue": "next_with_room", "window": "12:15"}],
    )
    action = action_for(full)
    assert (action.title, action.message) == (
        "The kitchen is full then",
        "Next windows with room: 12:15",
    )
    ending = ConflictFailure(
        409,
        "SLOT_FULL",
        "This slot ends at 15:00, before this order could be ready; choose another slot",
        [
            {
                "field": "time_slot",
                "issue": "ends_too_soon",
                "message": "The slot ends at 15:00",
                "time_slot": "lunch",
            }
        ],
    )
    action = action_for(ending)
    assert action.kind is ActionKind.CONFLICT and action.title == "Too late for this slot"
    assert action.message == (
        "The slot ends at 15:00, before your order could be ready. Choose another slot."
    )


def test_item_unavailable_names_each_item() -> None:
    error = ConflictFailure(
        409,
        "ITEM_UNAVAILABLE",
        "no",
        [
            {"menu_item_id": "a", "reason": "out_of_stock", "name": "Samosa", "available": 2},
            {"menu_item_id": "b", "reason": "not_in_time_slot"},
        ],
    )
    action = action_for(error, names={"b": "Idli"})
    assert action.kind is ActionKind.REMOVE_UNAVAILABLE
    assert [i.menu_item_id for i in action.unavailable] == ["a", "b"]
    assert "Samosa is sold out (only 2 left)" in action.message
    assert "Idli is not served in this time slot" in action.message


# ---- sign-in -------------------------------------------------------------------------------


def test_phone_numbers_are_normalised() -> None:
    assert normalise_phone("98123 45678") == "+919812345678"
    assert normalise_phone("098123-45678") == "+919812345678"
    assert normalise_phone("+91 98123 45678") == "+919812345678"
    assert normalise_phone("0091 9812345678") == "+919812345678"
    assert normalise_phone("919812345678") == "+919812345678"
    assert normalise_phone("12345") is None
    assert normalise_phone("") is None


# ---- menu ----------------------------------------------------------------------------------


def test_filters() -> None:
    items = [
        item("Masala Dosa", allergens=["dairy"], category_id="south"),
        item("Egg Puff", diet="egg", allergens=["gluten", "egg"], category_id="snacks"),
        item("Chicken Roll", diet="non_veg", allergens=["gluten"], category_id="snacks"),
        item("Chai", allergens=["dairy"], category_id="drinks"),
    ]
    names = lambda f: [i.name for i in filter_items(items, f)]  # noqa: E731
    assert names(MenuFilters()) == ["Masala Dosa", "Egg Puff", "Chicken Roll", "Chai"]
    assert names(MenuFilters(category_id="snacks")) == ["Egg Puff", "Chicken Roll"]
    assert names(MenuFilters(diets=frozenset({"veg", "egg"}))) == [
        "Masala Dosa",
        "Egg Puff",
        "Chai",
    ]
    assert names(MenuFilters(allergen_free=frozenset({"gluten"}))) == ["Masala Dosa", "Chai"]
    assert names(MenuFilters(query="  ROLL ")) == ["Chicken Roll"]
    f = MenuFilters().toggle_diet("veg").toggle_allergen("dairy")
    assert names(f) == [] and f.toggle_diet("veg").diets == frozenset()


def test_slot_choice_by_the_canteens_clock() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    cfg = config()
    assert choose_slot(config(current_time_slot="lunch")).code == "lunch"  # type: ignore[union-attr]
    assert choose_slot(cfg, datetime(2026, 1, 5, 11, 0, tzinfo=ist)).code == "lunch"  # type: ignore[union-attr]
    assert choose_slot(cfg, datetime(2026, 1, 5, 6, 0, tzinfo=ist)).code == "breakfast"  # type: ignore[union-attr]
    assert choose_slot(cfg, datetime(2026, 1, 5, 23, 0, tzinfo=ist)).code == "breakfast"  # type: ignore[union-attr]
    assert cfg.time_slots[0].start_time == time(7, 30)
    assert choose_slot(config(time_slots=[])) is None


def test_media_urls() -> None:
    api = "http://10.0.2.2:8000/api/v1"
    assert (
        media_url(api, "/media/menu/x-thumb.webp") == "http://10.0.2.2:8000/media/menu/x-thumb.webp"
    )
    assert media_url(api, "https://cdn.example.com/a.webp") == "https://cdn.example.com/a.webp"
    assert media_url(api, None) is None


# ---- tracking ------------------------------------------------------------------------------


def test_stepper_follows_the_status() -> None:
    states = lambda t, s: [x.state for x in stepper(t, s)]  # noqa: E731
    assert states("pickup", "received") == ["current", "todo", "todo", "todo", "todo"]
    assert states("pickup", "preparing") == ["done", "done", "current", "todo", "todo"]
    assert states("pickup", "completed") == ["done"] * 5
    assert [x.label for x in stepper("delivery", "out_for_delivery")][-2:] == [
        "Out for delivery",
        "Delivered",
    ]
    assert states("delivery", "out_for_delivery") == ["done"] * 4 + ["current", "todo"]


def test_eta_text() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    now = datetime(2026, 1, 5, 12, 0, tzinfo=ist)
    ready = datetime(2026, 1, 5, 6, 42, tzinfo=UTC)  # 12:12 IST
    assert eta_text(ready, now, "preparing") == "Ready by 12:12 (about 12 min)"
    assert (
        eta_text(ready, now + timedelta(minutes=20), "confirmed")
        == "Ready by 12:12 (any minute now)"
    )
    assert eta_text(ready, now, "ready") is None
    assert eta_text(None, now, "preparing") is None


# ---- the cart on the device ------------------------------------------------------------------


async def test_cart_survives_a_restart_in_a_file(tmp_path: Path) -> None:
    dosa, chai = item("Masala Dosa", price=6000), item("Chai", price=1500)
    cart = Cart(FileStore(tmp_path))
    await cart.load()
    await cart.add(dosa, 2, notes="less oil")
    await cart.add(chai)
    await cart.add(chai)
    assert (cart.count, cart.subtotal) == (4, 2 * 6000 + 2 * 1500)
    path = tmp_path / "cart.json"
    assert json.loads(path.read_text())["lines"][0]["notes"] == "less oil"
    assert oct(os.stat(tmp_path).st_mode & 0o777) == "0o700"

    again = Cart(FileStore(tmp_path))  # the app restarted
    await again.load()
    assert [(x.name, x.quantity, x.notes) for x in again.lines] == [
        ("Masala Dosa", 2, "less oil"),
        ("Chai", 2, None),
    ]
    await again.set_quantity(chai.id, 0)
    await again.add(dosa, 100)
    assert again.get(dosa.id) == CartItem(
        dosa.id, "Masala Dosa", 6000, MAX_QUANTITY, "veg", "less oil"
    )
    assert [x.menu_item_id for x in again.sdk_lines()] == [dosa.id]

    path.write_text('{"lines": [{"name": "no id"}, ')  # torn / damaged file
    broken = Cart(FileStore(tmp_path))
    await broken.load()
    assert broken.is_empty


async def test_cart_in_client_storage_and_tokens_in_a_store() -> None:
    class Prefs:  # what flet.SharedPreferences offers
        def __init__(self) -> None:
            self.data: dict[str, object] = {}

        async def get(self, key: str) -> object:
            return self.data.get(key)

        async def set(self, key: str, value: object) -> bool:
            self.data[key] = value
            return True

        async def remove(self, key: str) -> bool:
            self.data.pop(key, None)
            return True

    prefs = Prefs()
    cart = Cart(ClientStorage(prefs))
    await cart.add(item("Chai", price=1500))
    assert isinstance(prefs.data["canteen.cart"], str)
    restored = Cart(ClientStorage(prefs))
    await restored.load()
    assert restored.count == 1

    tokens = StoreTokenStore(MemoryStore())
    assert await tokens.load() is None
    await tokens.save(Tokens("a", "r", user={"id": "u"}))
    assert (await tokens.load()).refresh_token == "r"  # type: ignore[union-attr]
    await tokens.clear()
    assert await tokens.load() is None
    with pytest.raises(ValueError):
        await MemoryStore().get("../etc/passwd")


# ---- checkout rules ------------------------------------------------------------------------


async def test_checkout_options_follow_the_settings() -> None:
    cart = Cart(MemoryStore())
    await cart.add(item("Chai", price=1500), 2)
    no_delivery = config(delivery_enabled=False, upi_payment_enabled=False)
    assert co.order_types(no_delivery) == ["pickup"]
    assert co.payment_methods(no_delivery) == ["cash"]
    form = co.fit_to_config(
        co.CheckoutForm(order_type="delivery", payment_method="upi"), no_delivery
    )
    assert (form.order_type, form.payment_method) == ("pickup", "cash")

    delivery = co.CheckoutForm(order_type="delivery", payment_method="upi", delivery_address="")
    assert co.validate(delivery, config(), cart) == {
        "delivery_address": "Enter where to deliver (hostel, room, building)"
    }
    assert co.validate(delivery, no_delivery, cart)["order_type"]
    ok = co.CheckoutForm(
        order_type="delivery", payment_method="upi", delivery_address="Hostel 4, room 12"
    )
    assert co.validate(ok, config(), cart) == {}
    assert co.totals(cart, ok, config()) == (3000, 2000, 5000)
    assert co.validate(ok, config(), Cart(MemoryStore()))["items"] == "Your cart is empty"


def test_payment_return_parsing() -> None:
    ok = co.parse_payment_return(
        {
            "order_id": ORDER_ID,
            "razorpay_payment_id": "pay_1",
            "razorpay_order_id": "order_1",
            "razorpay_signature": "s",
        }
    )
    assert (
        ok.status == "success"
        and ok.result is not None
        and ok.result.razorpay_order_id == "order_1"
    )
    failed = co.parse_payment_return(
        {"order_id": ORDER_ID, "error[description]": "Declined by bank"}
    )
    assert (failed.status, failed.error) == ("failure", "Declined by bank")
    assert co.parse_payment_return({"status": "pending"}).status == "pending"


def test_banners() -> None:
    assert banners_for(None, online=True) == []
    kinds = lambda c, o: [b.kind for b in banners_for(c, o)]  # noqa: E731
    assert kinds(config(), False) == [BannerKind.OFFLINE]
    assert kinds(config(restaurant_open=False), True) == [BannerKind.CLOSED]
    assert kinds(config(ordering_paused=True), True) == [BannerKind.PAUSED]


# ---- issue 14 ---------------------------------------------------------------------------


def order_json(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "number": "ORD-20260105-001",
        "status": "confirmed",
        "payment_method": "cash",
        "payment_status": "cash_due",
        "order_type": "pickup",
        "items": [],
        "subtotal": 9000,
        "total": 9000,
        "pickup_code": "1234",
        "created_at": "2026-01-05T06:30:00+00:00",
        "updated_at": "2026-01-05T06:30:00+00:00",
    }
    return {**base, **kw}


def test_web_and_phones_keep_the_session_on_the_device() -> None:
    from canteen_app.main import storage_kind

    assert storage_kind("auto", web=True, mobile=False) == "client"
    assert storage_kind("file", web=True, mobile=False) == "client"  # never a shared file
    assert storage_kind("auto", web=False, mobile=True) == "client"
    assert storage_kind("auto", web=False, mobile=False) == "file"  # the desktop app


def test_counters_and_item_counts_are_grammatical() -> None:
    from canteen_app.state.session import tries_left_text
    from canteen_app.ui.widgets import items_text

    assert [tries_left_text(n) for n in (3, 2, 1)] == [
        "3 tries left.",
        "2 tries left.",
        "1 try left.",
    ]
    assert tries_left_text(0) == "No tries left: ask for a new code."
    assert tries_left_text(1, "That code is not right; 1 try left") == ""
    assert [items_text(n) for n in (1, 2)] == ["1 item", "2 items"]


def test_a_field_error_without_words_takes_the_apis_message() -> None:
    failure = ValidationFailure(
        400,
        "INVALID_OTP",
        "That code is not right; 4 tries left",
        [{"field": "otp", "issue": "mismatch", "attempts_remaining": 4}],
    )
    assert action_for(failure).field_errors == {"otp": "That code is not right; 4 tries left"}


def test_delivery_orders_speak_of_the_delivery_person() -> None:
    from canteen_app.state.tracking import code_texts, payment_text

    pickup = Order.from_json(order_json())
    delivery = Order.from_json(order_json(order_type="delivery", delivery_address="Hostel 4"))
    assert code_texts(pickup) == ("Pickup code", "Show this code at the counter")
    assert code_texts(delivery) == ("Delivery code", "Give this code to the delivery person")
    assert payment_text(pickup) == "Pay in cash at the counter"
    assert payment_text(delivery) == "Pay cash on delivery"
    assert [s.label for s in stepper("delivery", "confirmed")][-1] == "Delivered"


def test_cancelled_orders_in_words() -> None:
    from canteen_app.state.tracking import cancellation_lines, payment_text

    cash = Order.from_json(order_json(status="cancelled", cancel_reason="cancelled by customer"))
    assert cancellation_lines(cash) == ["You cancelled this order"]
    assert payment_text(cash) == "Nothing to pay"
    assert [(s.label, s.state) for s in stepper("pickup", "cancelled", ["confirmed"])] == [
        ("Placed", "done"),
        ("Confirmed", "done"),
        ("Cancelled", "cancelled"),
    ]
    timeout = Order.from_json(
        order_json(
            status="cancelled",
            payment_method="upi",
            payment_status="pending",
            cancel_reason="payment_timeout",
        )
    )
    assert cancellation_lines(timeout) == [
        "Cancelled automatically",
        "The UPI payment did not arrive in time.",
    ]
    assert payment_text(timeout) == "You were not charged"
    refunded = Order.from_json(
        order_json(
            status="cancelled",
            payment_method="upi",
            payment_status="captured",
            cancel_reason="Out of batter",
            cancelled_by="admin",
            refund={"status": "pending", "amount": 9000, "reason": "Out of batter"},
        )
    )
    assert cancellation_lines(refunded) == [
        "The canteen cancelled this order",
        "Reason: Out of batter",
        "Refund of ₹90 on its way to your UPI account",
    ]
    assert payment_text(refunded) is None
