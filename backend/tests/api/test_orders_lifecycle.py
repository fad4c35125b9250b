"""The order lifecycle: customer, kitchen and delivery APIs, every transition and refusal."""

from __future__ import annotations

import uuid

from orders_helpers import order_body, place, seed_menu

from canteen.events.models import Event
from canteen.menu.models import MenuItem
from canteen.orders.models import Order
from conftest import API, assert_error, bearer, count_rows, login_customer, login_staff


async def _setup(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    return m, me, kitchen


async def _status(client, staff, order_id, status, **extra):
    return await client.patch(
        f"{API}/admin/orders/{order_id}/status",
        json={"status": status, **extra},
        headers=bearer(staff),
    )


async def _order_state(container, order_id):
    async with container.sessionmaker() as s:
        o = await s.get(Order, uuid.UUID(order_id))
        return o.status, o.payment_status


async def test_pickup_order_through_every_status_with_events(client, container):
    m, me, kitchen = await _setup(client, container)
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    oid = order["id"]
    r = await client.get(f"{API}/admin/orders/{oid}", headers=bearer(kitchen))
    detail = r.json()["data"]
    assert detail["allowed_next"] == ["preparing", "cancelled"]
    assert detail["pickup_code"] == "****"  # the kitchen asks the customer for it
    assert detail["customer"]["phone"] == "+919876543210"
    for status in ("preparing", "ready"):
        r = await _status(client, kitchen, oid, status)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["status"] == status
    r = await client.post(
        f"{API}/admin/orders/{oid}/handover",
        json={"pickup_code": order["pickup_code"]},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    done = r.json()["data"]
    assert done["status"] == "completed" and done["payment_status"] == "paid"
    assert done["allowed_next"] == []
    kinds = [(e["type"], e["status"], e["data"].get("from")) for e in done["events"]]
    assert kinds == [
        ("order.created", "confirmed", None),
        ("order.status_changed", "preparing", "confirmed"),
        ("order.status_changed", "ready", "preparing"),
        ("order.status_changed", "completed", "ready"),
    ]
    assert all(e["actor_id"] == kitchen["user"]["id"] for e in done["events"][1:])
    mine = (await client.get(f"{API}/orders/{oid}", headers=bearer(me))).json()["data"]
    assert mine["status"] == "completed"


async def test_wrong_pickup_code_changes_nothing(client, container):
    m, me, kitchen = await _setup(client, container)
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    oid = order["id"]
    await _status(client, kitchen, oid, "preparing")
    await _status(client, kitchen, oid, "ready")
    events = await count_rows(container, Event)
    wrong = "0000" if order["pickup_code"] != "0000" else "1111"
    r = await client.post(
        f"{API}/admin/orders/{oid}/handover", json={"pickup_code": wrong}, headers=bearer(kitchen)
    )
    assert_error(r, 409, "PICKUP_CODE_MISMATCH")
    r = await _status(client, kitchen, oid, "completed", pickup_code=wrong)
    assert_error(r, 409, "PICKUP_CODE_MISMATCH")
    r = await _status(client, kitchen, oid, "completed")
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "pickup_code"
    assert await _order_state(container, oid) == ("ready", "cash_due")
    assert await count_rows(container, Event) == events


async def test_invalid_transition_lists_the_allowed_ones(client, container):
    m, me, kitchen = await _setup(client, container)
    oid = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]["id"]
    r = await _status(client, kitchen, oid, "ready")
    err = assert_error(r, 409, "INVALID_TRANSITION")
    assert err["details"][0]["allowed"] == ["preparing", "cancelled"]
    assert err["details"][0]["current"] == "confirmed"
    r = await _status(client, kitchen, oid, "confirmed")
    assert_error(r, 409, "INVALID_TRANSITION")
    r = await _status(client, kitchen, oid, "out_for_delivery")
    assert_error(r, 409, "INVALID_TRANSITION")
    r = await _status(client, kitchen, oid, "received")
    assert_error(r, 400, "VALIDATION_ERROR")
    assert await _order_state(container, oid) == ("confirmed", "cash_due")
    assert await count_rows(container, Event) == 1


async def test_unpaid_upi_order_cannot_be_started(client, container):
    m, me, kitchen = await _setup(client, container)
    oid = (await place(client, me, order_body((m.dosa, 1), payment_method="upi"))).json()["data"][
        "id"
    ]
    detail = (await client.get(f"{API}/admin/orders/{oid}", headers=bearer(kitchen))).json()["data"]
    assert detail["allowed_next"] == ["cancelled"]
    r = await _status(client, kitchen, oid, "preparing")
    err = assert_error(r, 409, "PAYMENT_PENDING")
    assert err["details"][0]["allowed"] == ["cancelled"]
    assert await _order_state(container, oid) == ("received", "pending")


async def test_customer_cancels_before_preparing_and_stock_comes_back(client, container):
    m, me, _kitchen = await _setup(client, container)
    oid = (await place(client, me, order_body((m.samosa, 3)))).json()["data"]["id"]
    async with container.sessionmaker() as s:
        assert (await s.get(MenuItem, m.samosa)).stock_remaining == 7
    r = await client.post(
        f"{API}/orders/{oid}/cancel", json={"reason": "changed my mind"}, headers=bearer(me)
    )
    assert r.status_code == 200
    assert r.json()["data"]["status"] == "cancelled"
    assert r.json()["data"]["cancel_reason"] == "changed my mind"
    async with container.sessionmaker() as s:
        assert (await s.get(MenuItem, m.samosa)).stock_remaining == 10
    r = await client.post(f"{API}/orders/{oid}/cancel", headers=bearer(me))
    assert_error(r, 409, "INVALID_TRANSITION")


async def test_customer_cannot_cancel_once_preparing(client, container):
    m, me, kitchen = await _setup(client, container)
    oid = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]["id"]
    await _status(client, kitchen, oid, "preparing")
    r = await client.post(f"{API}/orders/{oid}/cancel", headers=bearer(me))
    assert_error(r, 409, "INVALID_TRANSITION")
    assert await _order_state(container, oid) == ("preparing", "cash_due")


async def test_kitchen_cancel_needs_a_reason(client, container):
    m, me, kitchen = await _setup(client, container)
    oid = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]["id"]
    await _status(client, kitchen, oid, "preparing")
    r = await _status(client, kitchen, oid, "cancelled")
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "reason"
    assert await _order_state(container, oid) == ("preparing", "cash_due")
    r = await _status(client, kitchen, oid, "cancelled", reason="gas ran out")
    assert r.status_code == 200
    assert r.json()["data"]["cancel_reason"] == "gas ran out"
    mine = (await client.get(f"{API}/orders/{oid}", headers=bearer(me))).json()["data"]
    assert mine["status"] == "cancelled" and mine["cancel_reason"] == "gas ran out"


async def test_customers_see_only_their_own_orders(client, container):
    m = await seed_menu(container)
    a = await login_customer(client, container, "+919876500001")
    b = await login_customer(client, container, "+919876500002")
    oa = (await place(client, a, order_body((m.dosa, 1)))).json()["data"]["id"]
    for _ in range(3):
        await place(client, b, order_body((m.chai, 1)))
    r = await client.get(f"{API}/orders/{oa}", headers=bearer(b))
    assert_error(r, 404, "NOT_FOUND")
    r = await client.post(f"{API}/orders/{oa}/cancel", headers=bearer(b))
    assert_error(r, 404, "NOT_FOUND")
    r = await client.post(f"{API}/orders/{oa}/feedback", json={"rating": 1}, headers=bearer(b))
    assert_error(r, 404, "NOT_FOUND")
    assert await _order_state(container, oa) == ("confirmed", "cash_due")
    mine = await client.get(f"{API}/orders", params={"per_page": 2}, headers=bearer(b))
    body = mine.json()
    assert body["meta"] == {"page": 1, "per_page": 2, "total": 3}
    assert all(o["id"] != oa for o in body["data"])
    numbers = [o["number"] for o in body["data"]]
    assert numbers == sorted(numbers, reverse=True)  # newest first
    r = await client.get(f"{API}/orders/{uuid.uuid4()}", headers=bearer(a))
    assert_error(r, 404, "NOT_FOUND")


async def test_feedback_once_after_completion(client, container):
    m, me, kitchen = await _setup(client, container)
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    oid = order["id"]
    r = await client.post(f"{API}/orders/{oid}/feedback", json={"rating": 5}, headers=bearer(me))
    assert_error(r, 409, "ORDER_NOT_COMPLETED")
    await _status(client, kitchen, oid, "preparing")
    await _status(client, kitchen, oid, "ready")
    await _status(client, kitchen, oid, "completed", pickup_code=order["pickup_code"])
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": 4, "comment": "x" * 1001}):
        r = await client.post(f"{API}/orders/{oid}/feedback", json=bad, headers=bearer(me))
        assert_error(r, 400, "VALIDATION_ERROR")
    r = await client.post(
        f"{API}/orders/{oid}/feedback",
        json={"rating": 4, "comment": "Crisp dosa"},
        headers=bearer(me),
    )
    assert r.status_code == 200
    assert r.json()["data"]["feedback"]["rating"] == 4
    r = await client.post(f"{API}/orders/{oid}/feedback", json={"rating": 1}, headers=bearer(me))
    assert_error(r, 409, "FEEDBACK_EXISTS")
    mine = (await client.get(f"{API}/orders/{oid}", headers=bearer(me))).json()["data"]
    assert mine["feedback"]["rating"] == 4 and mine["feedback"]["comment"] == "Crisp dosa"


async def test_delivery_order_assignment_and_delivery_staff(client, container):
    m, me, kitchen = await _setup(client, container)
    rider = await login_staff(client, container, "delivery", "+919000000301")
    other_rider = await login_staff(client, container, "delivery", "+919000000302")
    order = (
        await place(
            client,
            me,
            order_body((m.dosa, 1), order_type="delivery", delivery_address="Library, desk 9"),
        )
    ).json()["data"]
    oid = order["id"]
    await _status(client, kitchen, oid, "preparing")
    await _status(client, kitchen, oid, "ready")
    r = await _status(client, kitchen, oid, "out_for_delivery")
    assert_error(r, 409, "DELIVERY_NOT_ASSIGNED")
    # Only delivery-role staff can be assigned.
    r = await client.post(
        f"{API}/admin/orders/{oid}/assign-delivery",
        json={"staff_id": kitchen["user"]["id"]},
        headers=bearer(kitchen),
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "staff_id"
    r = await client.post(
        f"{API}/admin/orders/{oid}/assign-delivery",
        json={"staff_id": str(uuid.uuid4())},
        headers=bearer(kitchen),
    )
    assert_error(r, 400, "VALIDATION_ERROR")
    r = await client.post(
        f"{API}/admin/orders/{oid}/assign-delivery",
        json={"staff_id": rider["user"]["id"]},
        headers=bearer(kitchen),
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["delivery_staff_id"] == rider["user"]["id"]
    assert r.json()["data"]["events"][-1]["type"] == "order.assigned"
    # The rider sees it; another rider does not and cannot touch it.
    mine = (await client.get(f"{API}/delivery/orders", headers=bearer(rider))).json()
    assert [o["id"] for o in mine["data"]] == [oid]
    theirs = (await client.get(f"{API}/delivery/orders", headers=bearer(other_rider))).json()
    assert theirs["data"] == []
    r = await client.patch(
        f"{API}/delivery/orders/{oid}/status",
        json={"status": "out_for_delivery"},
        headers=bearer(other_rider),
    )
    assert_error(r, 404, "NOT_FOUND")
    r = await client.patch(
        f"{API}/delivery/orders/{oid}/status", json={"status": "completed"}, headers=bearer(rider)
    )
    assert_error(r, 409, "INVALID_TRANSITION")
    r = await client.patch(
        f"{API}/delivery/orders/{oid}/status",
        json={"status": "out_for_delivery"},
        headers=bearer(rider),
    )
    assert r.status_code == 200 and r.json()["data"]["status"] == "out_for_delivery"
    # Delivered is proved by the customer's code (issue 17).
    r = await client.patch(
        f"{API}/delivery/orders/{oid}/status",
        json={"status": "completed", "pickup_code": order["pickup_code"]},
        headers=bearer(rider),
    )
    assert r.status_code == 200 and r.json()["data"]["status"] == "completed"
    assert await _order_state(container, oid) == ("completed", "paid")


async def test_pickup_orders_are_not_assigned(client, container):
    m, me, kitchen = await _setup(client, container)
    rider = await login_staff(client, container, "delivery", "+919000000301")
    oid = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]["id"]
    r = await client.post(
        f"{API}/admin/orders/{oid}/assign-delivery",
        json={"staff_id": rider["user"]["id"]},
        headers=bearer(kitchen),
    )
    assert_error(r, 409, "NOT_A_DELIVERY_ORDER")
    async with container.sessionmaker() as s:
        assert (await s.get(Order, uuid.UUID(oid))).delivery_staff_id is None


async def test_role_boundaries(client, container):
    m, me, kitchen = await _setup(client, container)
    rider = await login_staff(client, container, "delivery", "+919000000301")
    oid = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]["id"]
    for session in (me, rider):
        r = await client.get(f"{API}/admin/orders", headers=bearer(session))
        assert_error(r, 403, "INSUFFICIENT_ROLE")
        r = await _status(client, session, oid, "preparing")
        assert_error(r, 403, "INSUFFICIENT_ROLE")
    for session in (me, kitchen):
        r = await client.get(f"{API}/delivery/orders", headers=bearer(session))
        assert_error(r, 403, "INSUFFICIENT_ROLE")
    assert await _order_state(container, oid) == ("confirmed", "cash_due")
    r = await _status(client, kitchen, str(uuid.uuid4()), "preparing")
    assert_error(r, 404, "NOT_FOUND")


async def test_kitchen_list_filters_and_search(client, container):
    m, me, kitchen = await _setup(client, container)
    other = await login_customer(client, container, "+919812345678")
    a = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    b = (
        await place(
            client, other, order_body((m.dosa, 1), order_type="delivery", delivery_address="Gate 1")
        )
    ).json()["data"]
    c = (await place(client, me, order_body((m.dosa, 1), payment_method="upi"))).json()["data"]
    await _status(client, kitchen, a["id"], "preparing")

    async def ids(**params):
        r = await client.get(f"{API}/admin/orders", params=params, headers=bearer(kitchen))
        assert r.status_code == 200, r.text
        return {o["id"] for o in r.json()["data"]}

    assert await ids() == {a["id"], b["id"], c["id"]}
    assert await ids(status="preparing") == {a["id"]}
    assert await ids(status=["received", "confirmed"]) == {b["id"], c["id"]}
    assert await ids(order_type="delivery") == {b["id"]}
    assert await ids(q=b["number"]) == {b["id"]}
    assert await ids(q="12345678") == {b["id"]}
    assert await ids(
        date=a["number"][4:8] + "-" + a["number"][8:10] + "-" + a["number"][10:12]
    ) == {a["id"], b["id"], c["id"]}
    assert await ids(date="2001-01-01") == set()
    r = await client.get(f"{API}/admin/orders", params={"status": "eaten"}, headers=bearer(kitchen))
    assert_error(r, 400, "VALIDATION_ERROR")
    r = await client.get(f"{API}/admin/orders", params={"per_page": 1}, headers=bearer(kitchen))
    assert r.json()["meta"]["total"] == 3 and len(r.json()["data"]) == 1
    assert r.json()["data"][0]["age_seconds"] >= 0
