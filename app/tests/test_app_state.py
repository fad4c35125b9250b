"""The app's state and API logic against the real backend (a `canteen serve` subprocess),
through the SDK: sign-in, menu, the persisted cart, checkout with its idempotency, the
§11.2 failures, UPI through the sandbox, live tracking, history, reorder, feedback, push."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app_harness import CLOCK_OFFSET, Api, Backend, DemoMenu, free_port
from app_support import new_phone, sign_in
from canteen_app.state.checkout import awaiting_payment, parse_payment_return
from canteen_app.state.errors import ActionKind, action_for
from canteen_app.state.menu import MenuFilters, filter_items
from canteen_app.state.push import PushState, StaticPushRegistrar, route_for_notification
from canteen_app.state.status import BannerKind
from canteen_client import (
    CanteenError,
    ConflictFailure,
    NetworkFailure,
    RateLimitFailure,
    Tokens,
    ValidationFailure,
)


async def test_the_app_and_its_backend_keep_one_time_of_day(make_state, api: Api) -> None:
    """The suite's backend and app run on one clock shift (app_harness.CLOCK_OFFSET): the
    app reads the server's times against the same time of day."""
    state = make_state()
    server_time = datetime.fromisoformat(
        api.http.get("/config/public").json()["data"]["server_time"].replace("Z", "+00:00")
    )
    assert abs((state.now() - server_time).total_seconds()) < 30
    assert (
        abs((datetime.now(UTC) + timedelta(seconds=CLOCK_OFFSET) - server_time).total_seconds())
        < 30
    )


async def test_otp_sign_in_resend_timer_and_restart(make_state, api: Api, data_dir: Path) -> None:
    state = make_state()
    await state.start()
    assert not state.auth.signed_in
    phone = new_phone()
    before = api.sms_count(phone)
    otp = await state.auth.request_otp(phone.replace("+91", "0"))  # typed as 0 98...
    assert state.auth.phone == phone and otp.resend_after == 30
    assert 29 <= state.auth.resend_in() <= 30
    with pytest.raises(RateLimitFailure) as too_soon:  # the server enforces the timer too
        await state.auth.resend()
    assert action_for(too_soon.value).kind is ActionKind.RATE_LIMITED

    with pytest.raises(ValidationFailure) as wrong:
        await state.auth.verify(
            "000000" if api.latest_otp(phone, after=before) != "000000" else "111111"
        )
    assert wrong.value.code == "INVALID_OTP" and state.auth.attempts_remaining == 4
    assert action_for(wrong.value).kind is ActionKind.FIELD_ERRORS
    with pytest.raises(ValidationFailure):
        await state.auth.verify("12ab")  # caught before any request

    user = await state.auth.verify(api.latest_otp(phone, after=before))
    assert user.phone == phone and state.auth.signed_in

    restarted = make_state()  # the same device, the app started again
    await restarted.start()
    assert restarted.auth.signed_in and restarted.auth.user.phone == phone  # type: ignore[union-attr]
    assert (await restarted.api.users.me()).phone == phone

    await restarted.logout()
    assert not restarted.auth.signed_in
    third = make_state()
    await third.start()
    assert not third.auth.signed_in


async def test_menu_filters_match_the_servers(make_state, menu: DemoMenu) -> None:
    state = make_state()
    await state.start()
    assert state.config is not None and state.default_slot() == "allday"
    await state.load_menu()
    # The session's all-day slot: the default dishes and any another test file added to it.
    in_slot = await state.api.menu.items(time_slot="allday")
    assert {i.name for i in state.menu.items} == {i.name for i in in_slot}
    assert set(menu.dishes) <= {i.name for i in state.menu.items}
    cases = [
        MenuFilters(diets=frozenset({"veg"})),
        MenuFilters(diets=frozenset({"egg", "non_veg"})),
        MenuFilters(allergen_free=frozenset({"gluten"})),
        MenuFilters(allergen_free=frozenset({"dairy", "egg"}), diets=frozenset({"veg"})),
        MenuFilters(query="masala"),
    ]
    for f in cases:
        server = await state.api.menu.items(
            time_slot="allday",
            diet=sorted(f.diets) or None,
            allergen_free=sorted(f.allergen_free) or None,
            q=f.query or None,
        )
        assert [i.id for i in filter_items(state.menu.items, f)] == [i.id for i in server], f
    snacks = next(c for c in state.menu.categories if c.name == "Snacks & Chaat")
    state.menu.filters = MenuFilters(category_id=snacks.id)
    snack_names = {i.name for i in in_slot if i.category_id == snacks.id}
    assert {"Samosa (2 pcs)", "Egg Puff", "Chicken Roll"} <= snack_names
    assert {i.name for i in state.menu.visible} == snack_names
    assert [c.name for c, _ in state.menu.grouped()] == ["Snacks & Chaat"]


async def test_cash_checkout_with_a_persisted_cart_and_one_key_per_attempt(
    make_state, api: Api, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    dosa = state.menu_item(menu.dishes["Masala Dosa"])
    chai = state.menu_item(menu.dishes["Masala Chai"])
    await state.cart.add(dosa, 2, notes="less oil")
    await state.cart.add(chai)

    again = make_state()  # restart: the cart is still there
    await again.start()
    await again.load_menu()
    assert [(x.name, x.quantity) for x in again.cart.lines] == [
        ("Masala Dosa", 2),
        ("Masala Chai", 1),
    ]

    from dataclasses import replace

    again.checkout.form = replace(
        again.checkout.form, payment_method="cash", instructions="no sugar"
    )
    attempt = again.checkout.current_attempt()
    assert again.checkout.current_attempt() is attempt  # unchanged cart: same attempt, same key
    first = await attempt.place()  # e.g. the answer was lost on the way back...
    order = await again.checkout.place()  # ...and the customer taps "Place order" again
    assert order.id == first.id and attempt.created is False
    assert (order.status, order.payment_status, order.total) == (
        "confirmed",
        "cash_due",
        2 * 6000 + 1500,
    )
    assert [x.notes for x in order.items] == ["less oil", None] and order.instructions == "no sugar"
    assert again.cart.is_empty and again.checkout.attempt is None
    assert len(api.find_orders(order.number)) == 1  # one order, not two
    reloaded = make_state()
    await reloaded.start()
    assert reloaded.cart.is_empty  # the emptied cart was saved too


async def test_unavailable_items_are_removed_and_checkout_continues(
    make_state, api: Api, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    await state.cart.add(state.menu_item(menu.dishes["Egg Puff"]))
    await state.cart.add(state.menu_item(menu.dishes["Veg Hakka Noodles"]))
    from dataclasses import replace

    state.checkout.form = replace(state.checkout.form, payment_method="cash")
    api.set_available(menu.dishes["Egg Puff"], False)
    try:
        with pytest.raises(ConflictFailure) as refused:
            await state.checkout.place()
        action = action_for(refused.value, state.menu.names())
        assert action.kind is ActionKind.REMOVE_UNAVAILABLE
        assert "Egg Puff is not available right now" in action.message
        assert state.cart.count == 2  # nothing lost until the customer chooses
        first_key = state.checkout.attempt.idempotency_key  # type: ignore[union-attr]
        removed = await state.checkout.remove_unavailable(refused.value)
        assert removed == ["Egg Puff"]
        order = await state.checkout.place()
        assert state.checkout.attempts_made == 2 and first_key != order.id
        assert [x.name for x in order.items] == ["Veg Hakka Noodles"]
    finally:
        api.set_available(menu.dishes["Egg Puff"], True)


async def test_paused_and_closed_canteen(make_state, api: Api, menu: DemoMenu) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    await state.cart.add(state.menu_item(menu.dishes["Masala Chai"]))
    from dataclasses import replace

    state.checkout.form = replace(state.checkout.form, payment_method="cash")
    api.set_config(ordering_paused=True)
    try:
        with pytest.raises(ConflictFailure) as paused:
            await state.checkout.place()
        assert action_for(paused.value).kind is ActionKind.WAIT_AND_RETRY
        await state.refresh_config()
        assert [b.kind for b in state.banners] == [BannerKind.PAUSED] and not state.accepting_orders
        api.set_config(ordering_paused=False, restaurant_open=False)
        with pytest.raises(ConflictFailure) as closed:
            await state.checkout.place()
        assert action_for(closed.value).kind is ActionKind.CLOSED
        await state.refresh_config()
        assert [b.kind for b in state.banners] == [BannerKind.CLOSED]
    finally:
        api.set_config(ordering_paused=False, restaurant_open=True)
    await state.refresh_config()
    assert state.banners == [] and state.accepting_orders
    order = await state.checkout.place()  # wait and retry: the same attempt goes through
    assert order.status == "confirmed" and state.checkout.attempts_made == 1


async def test_upi_through_the_sandbox_then_the_apps_verify(
    make_state, api: Api, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    await state.cart.add(state.menu_item(menu.dishes["Chicken Roll"]))
    from dataclasses import replace

    state.checkout.form = replace(state.checkout.form, payment_method="upi")
    order = await state.checkout.place()
    assert (order.status, order.payment_status) == ("received", "pending") and awaiting_payment(
        order
    )
    url = state.payments.checkout_url(order)
    assert url and "/sandbox/razorpay/checkout/" in url and "callback_url=" in url

    declined = api.sandbox_pay(order.payment.gateway_order_id, "failure")  # type: ignore[union-attr]
    assert "error" in declined
    order = await state.payments.check(order.id)
    for _ in range(50):  # the webhook lands asynchronously
        if order.payment_status == "failed":
            break
        await asyncio.sleep(0.1)
        order = await state.payments.check(order.id)
    assert order.payment_status == "failed" and awaiting_payment(order)
    order = await state.payments.retry(order.id)  # "Try UPI again"

    paid = api.sandbox_pay(order.payment.gateway_order_id, "success")  # type: ignore[union-attr]
    back = parse_payment_return({"order_id": order.id, **paid})  # what the return link carries
    assert back.status == "success" and back.result is not None
    confirmed = await state.payments.verify(order.id, back.result)
    assert (confirmed.status, confirmed.payment_status) == ("confirmed", "captured")
    again = await state.payments.verify(order.id, back.result)  # harmless when repeated
    assert again.status == "confirmed"

    forged = back.result.__class__(
        back.result.razorpay_order_id, back.result.razorpay_payment_id, "0" * 64
    )
    with pytest.raises(ValidationFailure) as bad:
        await state.payments.verify(order.id, forged)
    assert bad.value.code == "PAYMENT_SIGNATURE_INVALID"


async def test_switch_to_cash(make_state, api: Api, menu: DemoMenu) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    await state.cart.add(state.menu_item(menu.dishes["Samosa (2 pcs)"]))
    from dataclasses import replace

    state.checkout.form = replace(state.checkout.form, payment_method="upi")
    order = await state.checkout.place()
    order = await state.payments.switch_to_cash(order.id)
    assert (order.status, order.payment_method, order.payment_status) == (
        "confirmed",
        "cash",
        "cash_due",
    )


async def test_tracking_follows_the_kitchen_then_feedback_and_reorder(
    make_state, api: Api, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    await state.cart.add(state.menu_item(menu.dishes["Masala Dosa"]), 2)
    await state.cart.add(state.menu_item(menu.dishes["Gulab Jamun (2 pcs)"]))
    from dataclasses import replace

    state.checkout.form = replace(state.checkout.form, payment_method="cash")
    order = await state.checkout.place()
    changes: list[str] = []
    tracking = state.tracking(order.id, lambda: changes.append(tracking.status or ""))
    await tracking.load()
    assert order.pickup_code and tracking.order.estimated_ready_at is not None  # type: ignore[union-attr]
    task = tracking.start()

    async def until(status: str) -> None:
        for _ in range(100):
            if tracking.status == status:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"tracking never saw {status}: {tracking.history}")

    await until("confirmed")
    api.set_status(order.id, "preparing")
    await until("preparing")
    api.set_status(order.id, "ready")
    await until("ready")
    api.handover(order.id, order.pickup_code)
    # The socket stays open while the handover may be recalled (5 minutes, on this real
    # clock; test_app_recall.py follows a recall): stop once it says completed.
    await until("completed")
    await tracking.stop()
    assert task.done()
    assert tracking.history == ["confirmed", "preparing", "ready", "completed"]
    assert tracking.mode == "websocket" and tracking.finished

    await state.orders.load()
    assert state.orders.orders[0].id == order.id
    from canteen_app.state.orders import needs_feedback

    assert needs_feedback(state.orders.orders[0])
    rated = await state.orders.feedback(order.id, 5, " lovely ")
    assert rated.feedback.rating == 5 and rated.feedback.comment == "lovely"  # type: ignore[union-attr]
    assert not needs_feedback(state.orders.orders[0])
    with pytest.raises(CanteenError):
        await state.orders.feedback(order.id, 4, "again")  # once per order

    result = await state.orders.reorder(order, state.menu.items, state.cart)
    assert result.added == ["Masala Dosa", "Gulab Jamun (2 pcs)"] and result.skipped == []
    assert [(x.name, x.quantity) for x in state.cart.lines] == [
        ("Masala Dosa", 2),
        ("Gulab Jamun (2 pcs)", 1),
    ]
    api.set_available(menu.dishes["Gulab Jamun (2 pcs)"], False)
    try:
        await state.cart.clear()
        await state.load_menu()
        result = await state.orders.reorder(order, state.menu.items, state.cart)
        assert result.skipped == ["Gulab Jamun (2 pcs)"] and state.cart.count == 2
    finally:
        api.set_available(menu.dishes["Gulab Jamun (2 pcs)"], True)


async def test_customer_cancel_before_the_kitchen_starts(
    make_state, api: Api, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    await state.cart.add(state.menu_item(menu.dishes["Masala Chai"]))
    from dataclasses import replace

    state.checkout.form = replace(state.checkout.form, payment_method="cash")
    order = await state.checkout.place()
    tracking = state.tracking(order.id, lambda: None)
    await tracking.load()
    cancelled = await tracking.cancel("changed my mind")
    assert cancelled.status == "cancelled" and tracking.finished


async def test_push_registration_and_the_notification_route(
    make_state, api: Api, backend: Backend, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    registrar = StaticPushRegistrar("fcm-token-app-test-1", platform="android")
    push = PushState(state.api, registrar)
    assert await push.register() == "fcm-token-app-test-1"
    await registrar.refresh("fcm-token-app-test-2")  # FCM rotated the token
    assert push.registered == "fcm-token-app-test-2"

    await state.load_menu()
    await state.cart.add(state.menu_item(menu.dishes["Masala Chai"]))
    from dataclasses import replace

    state.checkout.form = replace(state.checkout.form, payment_method="cash")
    order = await state.checkout.place()
    api.set_status(order.id, "preparing")
    pushes: list[dict] = []
    for _ in range(100):
        r = httpx.get(
            f"{backend.api}/dev/outbox", params={"channel": "push", "to": "fcm-token-app-test-2"}
        )
        pushes = [
            m
            for m in r.json()["data"]
            if (m["payload"] or {}).get("data", {}).get("order_id") == order.id
        ]
        if pushes:
            break
        await asyncio.sleep(0.1)
    assert pushes, "no push reached the registered device"
    data = pushes[0]["payload"]["data"]
    assert route_for_notification(data) == f"/orders/{order.id}"
    await push.unregister()
    assert push.registered is None


async def test_signed_out_when_the_session_is_refused(make_state, api: Api) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    reasons: list[str] = []
    state.on_signed_out(reasons.append)
    tokens = await state.api.tokens()
    await state.api.set_tokens(Tokens("tampered." + tokens.access_token, tokens.refresh_token))  # type: ignore[union-attr]
    with pytest.raises(CanteenError) as refused:
        await state.orders.load()
    assert action_for(refused.value).kind is ActionKind.SIGN_IN_AGAIN
    assert reasons == ["invalid_token"] and not state.auth.signed_in


async def test_offline_banner_and_recovery(make_state, backend: Backend, data_dir: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/v1"
    offline = make_state(api_url=dead)
    await offline.start()  # starts anyway, from what the device has
    assert not offline.network.online
    assert [b.kind for b in offline.banners] == [BannerKind.OFFLINE]
    with pytest.raises(NetworkFailure) as failure:
        await offline.call(offline.api.menu.categories)
    assert action_for(failure.value).kind is ActionKind.OFFLINE

    online = make_state()  # same device: it saved the last config it saw? (none yet)
    await online.start()
    assert online.network.online and online.config is not None
    later = make_state(api_url=dead)  # offline start after a good one: the saved config shows
    await later.start()
    assert later.config is not None and later.config.time_slots
    later.start_background()
    await asyncio.sleep(0.5)
    assert not later.network.online  # still unreachable: the probe keeps it offline


# ---- issue 14: journeys that broke -------------------------------------------------------


async def place(state, menu: DemoMenu, dish: str, method: str):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    await state.load_menu()
    await state.cart.add(state.menu_item(menu.dishes[dish]))
    state.checkout.form = replace(state.checkout.form, payment_method=method)
    return await state.checkout.place()


async def eventually(check, what: str, tries: int = 150) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def test_a_declined_payment_reaches_tracking_live_with_its_payment_page(
    make_state, api: Api, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    order = await place(state, menu, "Chicken Roll", "upi")
    tracking = state.tracking(order.id)
    await tracking.load()
    task = tracking.start()
    await eventually(lambda: tracking.history == ["received"], "the snapshot")
    assert tracking.order.payment is not None  # type: ignore[union-attr]  # kept over the snapshot

    api.sandbox_pay(order.payment.gateway_order_id, "failure")  # type: ignore[union-attr]
    await eventually(lambda: tracking.payment_failed, "the failure, live")
    shown = tracking.order
    assert shown is not None and shown.payment_status == "failed"
    assert shown.payment is not None and shown.payment.checkout_url  # "Try UPI again" can open it
    assert tracking.payment_error  # the gateway's words, from the live event

    retried = await tracking.retry_payment()
    assert retried.payment_status == "pending" and not tracking.payment_failed
    api.sandbox_pay(retried.payment.gateway_order_id, "failure")  # type: ignore[union-attr]
    await eventually(lambda: tracking.payment_failed, "the second failure")
    cash = await tracking.switch_to_cash()
    assert (cash.status, cash.payment_method, cash.payment_status) == (
        "confirmed",
        "cash",
        "cash_due",
    )
    await tracking.stop()
    assert task.done()


async def test_cancelled_orders_say_who_why_and_the_refund(
    make_state, api: Api, menu: DemoMenu
) -> None:
    from canteen_app.state.tracking import (
        cancellation_lines,
        cancelled_by,
        payment_text,
        stepper,
    )

    state = make_state()
    await state.start()
    await sign_in(state, api)
    mine = await place(state, menu, "Masala Chai", "cash")
    tracking = state.tracking(mine.id)
    await tracking.load()
    cancelled = await tracking.cancel()  # no reason: the server records the customer's own
    assert cancellation_lines(cancelled, tracking.cancel_actor) == ["You cancelled this order"]
    again = await state.api.orders.order(mine.id)  # a later visit, without the live event
    assert cancellation_lines(again)[0] == "You cancelled this order"
    assert payment_text(again) == "Nothing to pay"  # not "Pay in cash at the counter"
    assert all(s.state != "todo" for s in stepper(again.order_type, "cancelled"))

    paid = await place(state, menu, "Egg Puff", "upi")
    api.sandbox_pay(paid.payment.gateway_order_id, "success")  # type: ignore[union-attr]
    tracking = state.tracking(paid.id)
    await tracking.load()
    task = tracking.start()
    await eventually(lambda: tracking.status == "confirmed", "the payment")
    await eventually(
        lambda: tracking.tracker is not None and tracking.tracker.last is not None, "live"
    )
    api.set_status(paid.id, "cancelled", reason="The oven broke down")
    await eventually(lambda: tracking.status == "cancelled", "the cancellation")
    assert cancelled_by(tracking.order, tracking.cancel_actor) == "kitchen"  # type: ignore[arg-type]
    await eventually(
        lambda: tracking.order is not None and tracking.order.refund is not None, "the refund"
    )
    order = tracking.order
    assert order is not None
    lines = cancellation_lines(order, tracking.cancel_actor)
    assert lines[:2] == ["The canteen cancelled this order", "Reason: The oven broke down"]
    assert "₹" in lines[2] and "efund" in lines[2]
    assert payment_text(order) is None  # the refund line says it
    steps = stepper(order.order_type, "cancelled", tracking.history)
    assert [(s.label, s.state) for s in steps] == [
        ("Placed", "done"),
        ("Confirmed", "done"),
        ("Cancelled", "cancelled"),
    ]
    await tracking.stop()
    task.cancel()


async def test_ready_is_announced_once_when_it_happens(
    make_state, api: Api, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    order = await place(state, menu, "Samosa (2 pcs)", "cash")
    heard: list[str] = []
    state.ready.on_ready(lambda alert: heard.append(alert.text))
    state.ready.watch(order)
    state.ready.watch(order)  # once per order however often it is asked
    api.set_status(order.id, "preparing")
    await asyncio.sleep(0.5)
    assert heard == []
    api.set_status(order.id, "ready")
    await eventually(lambda: bool(heard), "the ready alert")
    assert heard == [f"Your order {order.number} is ready for pickup"]

    later = make_state()  # the app opened after the order was ready: no ring
    await later.start()
    late: list[str] = []
    later.ready.on_ready(lambda alert: late.append(alert.text))
    await later.ready.watch_open_orders()
    assert order.id in later.ready.watching
    await asyncio.sleep(0.5)
    assert late == []


async def test_sign_out_clears_this_devices_cart_and_session(
    make_state, api: Api, menu: DemoMenu
) -> None:
    state = make_state()
    await state.start()
    await sign_in(state, api)
    await state.load_menu()
    await state.cart.add(state.menu_item(menu.dishes["Masala Dosa"]))
    await state.logout()
    assert state.cart.is_empty and not state.auth.signed_in
    next_student = make_state()  # the same device, the next person
    await next_student.start()
    assert not next_student.auth.signed_in and next_student.cart.is_empty


async def test_wrong_codes_are_words_from_the_api(make_state, api: Api) -> None:
    from canteen_app.state.session import tries_left_text

    state = make_state()
    await state.start()
    phone = new_phone()
    before = api.sms_count(phone)
    await state.auth.request_otp(phone)
    right = api.latest_otp(phone, after=before)
    wrong = "000000" if right != "000000" else "111111"
    seen: list[str] = []
    for _ in range(6):
        with pytest.raises(ValidationFailure) as failure:
            await state.auth.verify(wrong)
        action = action_for(failure.value)
        seen.append(action.field_errors.get("otp", ""))
        assert action.field_errors["otp"] == failure.value.message  # the API's sentence
    assert not {"mismatch", "expired", "attempts_exceeded", "used", ""} & set(seen)
    assert state.auth.attempts_remaining in (None, 0)  # no stale "1 try left" beside it
    assert [tries_left_text(n) for n in (2, 1, 0)] == [
        "2 tries left.",
        "1 try left.",
        "No tries left: ask for a new code.",
    ]
    assert tries_left_text(4, "That code is not right; 4 tries left") == ""  # said once
