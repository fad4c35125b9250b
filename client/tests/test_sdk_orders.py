"""Orders through the SDK: placement (idempotent), payment, history, cancel, feedback,
typed errors and retries (design §6.3, §8, §11.2, §13.3)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from canteen.orders.models import Order as OrderRow
from canteen_client import (
    CanteenClient,
    CartLine,
    ConflictFailure,
    NetworkFailure,
    ServerFailure,
    UnavailableItem,
    ValidationFailure,
)

from .sdk_harness import (
    API,
    FlakyServer,
    RecordingSleep,
    Wire,
    seed_menu,
    set_status,
    sign_in,
    staff_session,
)


async def count_orders(container) -> int:
    async with container.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(OrderRow)) or 0)


async def test_place_a_cash_order(api, wire, raw, container):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    checkout = api.orders.checkout(
        [CartLine(m.dosa, 2, "extra chutney"), (m.chai, 1)],
        order_type="pickup",
        payment_method="cash",
        time_slot="allday",
        instructions="less oil",
    )
    order = await checkout.place()
    assert order.id and order.number.startswith("ORD-")
    assert order.status == "confirmed" and order.payment_status == "cash_due"
    assert order.total == 2 * 6000 + 1500 and order.payment is None
    assert [(li.name, li.quantity) for li in order.items] == [
        ("Masala Dosa", 2),
        ("Cutting Chai", 1),
    ]
    assert order.items[0].notes == "extra chutney" and order.instructions == "less oil"
    assert checkout.created is True
    (post,) = wire.calls("POST", f"{API}/orders")
    assert post.headers["X-Idempotency-Key"] == checkout.idempotency_key

    # Placing the same attempt again is harmless: the same order comes back.
    again = await checkout.place()
    assert again.id == order.id and checkout.created is False
    assert await count_orders(container) == 1

    # A new attempt is a new order.
    other = await api.orders.place([(m.chai, 1)], time_slot="allday")
    assert other.id != order.id and await count_orders(container) == 2

    page = await api.orders.orders(per_page=1)
    assert page.total == 2 and len(page.items) == 1 and page.has_next
    assert (await api.orders.order(order.id)).number == order.number


async def test_idempotent_placement_survives_a_lost_answer(api, wire, raw, container, slept):
    """The server places the order but the answer never arrives: the retry, with the same
    key, gets the same order; there is still exactly one."""
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    wire.drop_after_handling("POST", f"{API}/orders")
    checkout = api.orders.checkout([(m.dosa, 1)], time_slot="allday")
    order = await checkout.place()
    posts = wire.calls("POST", f"{API}/orders")
    assert [p.status for p in posts] == [201, 200]  # created, then replayed
    assert {p.headers["X-Idempotency-Key"] for p in posts} == {checkout.idempotency_key}
    assert posts[0].headers["X-Request-ID"] == posts[1].headers["X-Request-ID"]
    assert checkout.created is False  # what we got was the replay
    assert await count_orders(container) == 1
    assert (await api.orders.order(order.id)).id == order.id
    assert slept.delays == [0.5]


async def test_item_unavailable_is_a_conflict_with_the_items(api, raw, container):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    with pytest.raises(ConflictFailure) as err:
        await api.orders.place([(m.dosa, 1), (m.hidden, 1), (m.biryani, 1)], time_slot="allday")
    failure = err.value
    assert failure.status == 409 and failure.code == "ITEM_UNAVAILABLE"
    assert failure.unavailable_items == [
        UnavailableItem(m.hidden, "unavailable", name="Paneer Roll"),
        UnavailableItem(m.biryani, "not_in_time_slot", name="Veg Biryani", time_slot="allday"),
    ]
    assert await count_orders(container) == 0


async def test_validation_errors_carry_the_fields(api, raw, container):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    with pytest.raises(ValidationFailure) as err:
        await api.orders.place([(m.dosa, 0)], time_slot="allday")
    assert err.value.status == 400 and err.value.code == "VALIDATION_ERROR"
    assert set(err.value.field_errors) == {"items.0.quantity"}
    with pytest.raises(ValidationFailure) as err:
        await api.orders.place([(m.dosa, 1)], order_type="delivery", time_slot="allday")
    assert set(err.value.field_errors) == {"delivery_address"}
    with pytest.raises(ValidationFailure) as err:
        await api.users.update_me(email="not-an-email")
    assert "email" in err.value.field_errors


async def test_restaurant_closed_is_a_conflict(api, raw, container):
    from canteen.menu import service as menu_service

    m = await seed_menu(container)
    await sign_in(api, raw, container)
    async with container.sessionmaker() as s, s.begin():
        (await menu_service.get_config(s)).restaurant_open = False
    with pytest.raises(ConflictFailure) as err:
        await api.orders.place([(m.dosa, 1)], time_slot="allday")
    assert err.value.code == "RESTAURANT_CLOSED" and err.value.unavailable_items == []


async def test_cancel_and_feedback(api, raw, container):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    kitchen = await staff_session(raw, container, "kitchen", "+919000000201")
    first = await api.orders.place([(m.dosa, 1)], time_slot="allday")
    cancelled = await api.orders.cancel(first.id, reason="changed my mind")
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "changed my mind"
    assert cancelled.is_terminal

    second = await api.orders.place([(m.chai, 1)], time_slot="allday")
    for status in ("preparing", "ready"):
        await set_status(raw, kitchen, second.id, status)
    with pytest.raises(ConflictFailure) as err:
        await api.orders.cancel(second.id)
    assert err.value.code == "INVALID_TRANSITION"
    await set_status(raw, kitchen, second.id, "completed", pickup_code=second.pickup_code)
    rated = await api.orders.feedback(second.id, 5, "great chai")
    assert rated.feedback is not None and rated.feedback.rating == 5
    assert rated.feedback.comment == "great chai"


async def test_upi_order_carries_payment_details_and_verify_confirms(api, raw, container):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    order = await api.orders.place([(m.dosa, 1)], payment_method="upi", time_slot="allday")
    assert order.status == "received" and order.payment_status == "pending"
    payment = order.payment
    assert payment is not None
    assert payment.gateway == "razorpay" and payment.key_id.startswith("rzp_test_")
    assert payment.gateway_order_id.startswith("order_")
    assert payment.amount == order.total and payment.currency == "INR"
    assert payment.checkout_url and "/checkout/" in payment.checkout_url

    paid = await api.payments.sandbox_pay(payment, "success")
    assert paid.status == "success"
    confirmed = await api.payments.verify_result(order.id, paid.checkout_result)
    assert confirmed.id == order.id
    assert confirmed.status == "confirmed" and confirmed.payment_status == "captured"
    # Verifying again is harmless (that is why the SDK may retry it).
    again = await api.payments.verify(
        order.id, paid.razorpay_order_id, paid.razorpay_payment_id, paid.razorpay_signature
    )
    assert again.status == "confirmed"


async def test_a_forged_payment_signature_is_a_validation_failure(api, raw, container):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    order = await api.orders.place([(m.dosa, 1)], payment_method="upi", time_slot="allday")
    assert order.payment is not None
    with pytest.raises(ValidationFailure) as err:
        await api.payments.verify(order.id, order.payment.gateway_order_id, "pay_forged", "0" * 64)
    assert err.value.code == "PAYMENT_SIGNATURE_INVALID"
    failed = await api.payments.sandbox_pay(order.payment, "failure")
    assert failed.status == "failure" and failed.error
    with pytest.raises(ValueError):
        failed.checkout_result  # noqa: B018
    assert (await api.orders.order(order.id)).status == "received"


# ---- a struggling server -------------------------------------------------------------


def flaky_api(app) -> tuple[CanteenClient, Wire, FlakyServer, RecordingSleep]:
    server = FlakyServer(app)
    wire = Wire(httpx.ASGITransport(app=server, raise_app_exceptions=False))
    sleep = RecordingSleep()
    return CanteenClient("http://testserver", transport=wire, sleep=sleep), wire, server, sleep


async def test_a_server_that_fails_twice_then_answers(app, raw, container):
    m = await seed_menu(container)
    api, wire, server, sleep = flaky_api(app)
    async with api:
        await sign_in(api, raw, container)
        order = await api.orders.place([(m.dosa, 1)], time_slot="allday")

        # A read: retried, succeeds on the third try.
        server.fail("GET", f"{API}/orders/{order.id}", times=2, status=503)
        got = await api.orders.order(order.id)
        assert got.id == order.id
        assert [s.status for s in wire.calls("GET", f"{API}/orders/{order.id}")] == [503, 503, 200]
        assert sleep.delays == [0.5, 1.0]

        # Order placement is made safe by its key: retried too (500 and 502 alike).
        server.fail("POST", f"{API}/orders", times=1, status=500)
        server.rules[("POST", f"{API}/orders")].append(502)
        placed = await api.orders.place([(m.chai, 1)], time_slot="allday")
        assert [s.status for s in wire.calls("POST", f"{API}/orders")][-3:] == [500, 502, 201]
        assert placed.total == 1500

        # A non-idempotent POST is sent once: the 503 is the caller's to handle.
        server.fail("POST", f"{API}/orders/{order.id}/cancel", times=2, status=503)
        with pytest.raises(ServerFailure) as err:
            await api.orders.cancel(order.id)
        assert err.value.status == 503
        assert server.hits[("POST", f"{API}/orders/{order.id}/cancel")] == 1
        assert (await api.orders.order(order.id)).status == "confirmed"

        # Three retries at most, then the failure is raised.
        sleep.delays.clear()
        server.fail("GET", f"{API}/orders/{order.id}", times=5, status=502)
        with pytest.raises(ServerFailure) as err:
            await api.orders.order(order.id)
        assert err.value.status == 502
        assert sleep.delays == [0.5, 1.0, 2.0]


async def test_network_errors(app, raw, container):
    m = await seed_menu(container)
    api, wire, _, sleep = flaky_api(app)
    async with api:
        await sign_in(api, raw, container)
        order = await api.orders.place([(m.dosa, 1)], time_slot="allday")

        # A dropped answer to a non-idempotent call is not retried (it may have happened).
        wire.drop_after_handling("POST", f"{API}/orders/{order.id}/cancel")
        with pytest.raises(NetworkFailure):
            await api.orders.cancel(order.id)
        assert len(wire.calls("POST", f"{API}/orders/{order.id}/cancel")) == 1

        # A connection that never opened sent nothing: safe to retry for any call.
        second = await api.orders.place([(m.dosa, 1)], time_slot="allday")
        wire.refuse_connection("POST", f"{API}/orders/{second.id}/cancel")
        cancelled = await api.orders.cancel(second.id)
        assert cancelled.status == "cancelled"

    # Nobody listening at all: NetworkFailure after three retries.
    sleep = RecordingSleep()
    async with CanteenClient("http://127.0.0.1:9", sleep=sleep, timeout=2.0) as offline:
        with pytest.raises(NetworkFailure):
            await offline.menu.categories()
    assert sleep.delays == [0.5, 1.0, 2.0]


async def test_placement_waits_for_a_first_attempt_still_in_progress(app, raw, container):
    """409 IDEMPOTENCY_IN_PROGRESS (the first request with this key is still running on
    the server) is retried with the same key until that request has finished."""
    import uuid as uuid_

    from canteen.orders.idempotency import IdempotencyStore, fingerprint
    from canteen.orders.schemas import OrderCreate

    m = await seed_menu(container)
    store = IdempotencyStore(container.kv)

    async def first_request_finishes(delay: float) -> None:
        if len(sleep.delays) == 2:
            await store.release(user_id, checkout.idempotency_key)

    sleep = RecordingSleep(hook=first_request_finishes)
    api, wire, _, _ = flaky_api(app)
    api.sleep = sleep
    async with api:
        session = await sign_in(api, raw, container)
        user_id = uuid_.UUID(session.user.id)
        checkout = api.orders.checkout([(m.dosa, 1)], time_slot="allday")
        request_hash = fingerprint(
            OrderCreate.model_validate(checkout.body).model_dump(mode="json")
        )
        claim = await store.claim(user_id, checkout.idempotency_key, request_hash, uuid_.uuid4())
        assert claim.owned  # "another request" holds the key
        order = await checkout.place()
    statuses = [s.status for s in wire.calls("POST", f"{API}/orders")]
    assert statuses == [409, 409, 201]
    assert sleep.delays == [0.5, 1.0] and checkout.created and order.total == 6000
