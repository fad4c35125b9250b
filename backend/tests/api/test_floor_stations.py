"""Stations (issue 17, part 3): the admin's stations and dishes, per-line done marks seen
on the kitchen stream, 'all stations done' (and ready by itself when the canteen says so),
and the kitchen stream filtered to one station with replay. Refusals change nothing."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from live import serve
from orders_helpers import order_body, place, seed_menu
from sqlalchemy import func, select
from test_menu_stream import _events

from canteen.events.models import Event
from canteen.menu.models import MenuItem
from canteen.orders.models import Order
from canteen.stations.models import LineMark, Station
from conftest import API, assert_error, bearer, login_customer, login_staff

S = f"{API}/admin/stations"


async def _count(container, model) -> int:
    async with container.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def _station(client, admin, name, sort_order=0) -> dict:
    r = await client.post(S, json={"name": name, "sort_order": sort_order}, headers=bearer(admin))
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def _assign(client, admin, item_id, station_id):
    r = await client.put(
        f"{API}/admin/menu/items/{item_id}/station",
        json={"station_id": station_id},
        headers=bearer(admin),
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def _floor(client, who) -> dict:
    r = await client.get(S, headers=bearer(who))
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _done_url(order_id, position):
    return f"{API}/admin/orders/{order_id}/lines/{position}/done"


async def test_a_canteen_without_stations_has_none_and_no_auto_ready(client, container):
    await seed_menu(container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    assert await _floor(client, kitchen) == {"stations": [], "auto_ready": False}


async def test_admin_defines_stations_and_gives_dishes_one(client, container):
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    tawa = await _station(client, admin, "Dosa tawa", 1)
    drinks = await _station(client, admin, "  Beverages ", 2)
    assert drinks["name"] == "Beverages" and drinks["item_ids"] == []
    item = await _assign(client, admin, m.dosa, tawa["id"])
    assert item["station_id"] == tawa["id"]
    await _assign(client, admin, m.chai, drinks["id"])
    r = await client.patch(f"{S}/{drinks['id']}", json={"name": "Drinks"}, headers=bearer(admin))
    assert r.status_code == 200 and r.json()["data"]["item_ids"] == [str(m.chai)]
    floor = await _floor(client, kitchen)  # the kitchen reads them for its station picker
    assert [(s["name"], s["item_ids"]) for s in floor["stations"]] == [
        ("Dosa tawa", [str(m.dosa)]),
        ("Drinks", [str(m.chai)]),
    ]
    # The public menu says which station makes a dish.
    r = await client.get(f"{API}/menu/items/{m.dosa}")
    assert r.json()["data"]["station_id"] == tawa["id"]
    # Deleting a station keeps its dishes on the menu, with no station.
    r = await client.delete(f"{S}/{drinks['id']}", headers=bearer(admin))
    assert r.status_code == 204
    async with container.sessionmaker() as s:
        assert (await s.get(MenuItem, m.chai)).station_id is None
    assert [s["name"] for s in (await _floor(client, kitchen))["stations"]] == ["Dosa tawa"]
    # Back to no station.
    assert (await _assign(client, admin, m.dosa, None))["station_id"] is None


async def test_station_admin_refusals_change_nothing(client, container):
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    customer = await login_customer(client, container)
    tawa = await _station(client, admin, "Dosa tawa")
    stations = await _count(container, Station)
    for who in (kitchen, customer):
        for method, url, body in (
            ("POST", S, {"name": "Tandoor"}),
            ("PATCH", f"{S}/{tawa['id']}", {"name": "Grill"}),
            ("DELETE", f"{S}/{tawa['id']}", None),
            ("PATCH", f"{S}/settings", {"auto_ready": True}),
            ("PUT", f"{API}/admin/menu/items/{m.dosa}/station", {"station_id": tawa["id"]}),
        ):
            r = await client.request(method, url, json=body, headers=bearer(who))
            err = assert_error(r, 403, "INSUFFICIENT_ROLE")
            assert err["details"][0]["required_roles"] == ["admin"]
    assert_error(await client.get(S, headers=bearer(customer)), 403, "INSUFFICIENT_ROLE")
    err = assert_error(
        await client.post(S, json={"name": "dosa TAWA"}, headers=bearer(admin)),
        409,
        "STATION_NAME_TAKEN",
    )
    assert err["message"] == "A station with this name exists already"
    assert err["details"] == [{"field": "name", "issue": "taken", "name": "dosa TAWA"}]
    # Case folds beyond ASCII on both backends (SQLite's lower() does not: once a 500).
    eth = await _station(client, admin, "Ðosa")
    for method, url in (("POST", S), ("PATCH", f"{S}/{tawa['id']}")):
        err = assert_error(
            await client.request(method, url, json={"name": "ðOSA"}, headers=bearer(admin)),
            409,
            "STATION_NAME_TAKEN",
        )
        assert err["details"] == [{"field": "name", "issue": "taken", "name": "ðOSA"}]
    assert (await client.delete(f"{S}/{eth['id']}", headers=bearer(admin))).status_code == 204
    # /settings and /marks are not station ids: other methods there are 405, not a 400.
    for method, path, allowed in (("DELETE", "settings", "PATCH"), ("PATCH", "marks", "GET")):
        r = await client.request(method, f"{S}/{path}", headers=bearer(admin))
        assert_error(r, 405, "METHOD_NOT_ALLOWED")
        assert r.headers["allow"] == allowed
    r = await client.patch(f"{S}/not-an-id", json={}, headers=bearer(admin))
    assert_error(r, 404, "NOT_FOUND")
    for body, issue in (({"name": "  "}, "string_too_short"), ({}, "missing")):
        err = assert_error(
            await client.post(S, json=body, headers=bearer(admin)), 400, "VALIDATION_ERROR"
        )
        assert [(d["field"], d["issue"]) for d in err["details"]] == [("name", issue)]
    missing = str(uuid.uuid4())
    err = assert_error(
        await client.put(
            f"{API}/admin/menu/items/{m.dosa}/station",
            json={"station_id": missing},
            headers=bearer(admin),
        ),
        404,
        "NOT_FOUND",
    )
    assert err["message"] == "No such station"
    assert_error(await client.delete(f"{S}/{missing}", headers=bearer(admin)), 404, "NOT_FOUND")
    assert await _count(container, Station) == stations
    async with container.sessionmaker() as s:
        assert (await s.get(MenuItem, m.dosa)).station_id is None
        assert (await s.get(Station, uuid.UUID(tawa["id"]))).name == "Dosa tawa"


async def test_lines_are_marked_done_and_all_done_is_said_not_acted_on(client, container):
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    me = await login_customer(client, container)
    tawa = await _station(client, admin, "Dosa tawa")
    await _assign(client, admin, m.dosa, tawa["id"])
    order = (await place(client, me, order_body((m.dosa, 2), (m.chai, 1)))).json()["data"]
    r = await client.put(_done_url(order["id"], 0), headers=bearer(kitchen))
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {
        "order_id": order["id"],
        "status": "confirmed",
        "done": [0],
        "all_done": False,
    }
    again = await client.put(_done_url(order["id"], 0), headers=bearer(kitchen))  # idempotent
    assert again.json()["data"]["done"] == [0]
    r = await client.put(_done_url(order["id"], 1), headers=bearer(kitchen))
    assert r.json()["data"] == {
        "order_id": order["id"],
        "status": "confirmed",  # the expediter marks it ready
        "done": [0, 1],
        "all_done": True,
    }
    r = await client.get(f"{S}/marks", headers=bearer(kitchen))
    assert [(x["order_id"], x["position"]) for x in r.json()["data"]] == [
        (order["id"], 0),
        (order["id"], 1),
    ]
    r = await client.delete(_done_url(order["id"], 1), headers=bearer(kitchen))
    assert r.json()["data"]["done"] == [0] and r.json()["data"]["all_done"] is False
    async with container.sessionmaker() as s:
        events = list(
            await s.scalars(
                select(Event).where(Event.type == "order.line_done").order_by(Event.seq)
            )
        )
    assert [(e.data["position"], e.data["done"], e.data["all_done"]) for e in events] == [
        (0, True, False),
        (1, True, True),
        (1, False, False),
    ]
    assert events[0].data["station_id"] == tawa["id"] and events[1].data["station_id"] is None
    assert events[0].actor_id == uuid.UUID(kitchen["user"]["id"])


async def test_with_auto_ready_the_last_line_done_turns_the_order_ready(client, container):
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    me = await login_customer(client, container)
    r = await client.patch(f"{S}/settings", json={"auto_ready": True}, headers=bearer(admin))
    assert r.status_code == 200 and r.json()["data"]["auto_ready"] is True
    order = (await place(client, me, order_body((m.dosa, 1), (m.chai, 1)))).json()["data"]
    await client.put(_done_url(order["id"], 1), headers=bearer(kitchen))
    r = await client.put(_done_url(order["id"], 0), headers=bearer(kitchen))
    assert r.json()["data"]["status"] == "ready" and r.json()["data"]["all_done"] is True
    async with container.sessionmaker() as s:
        changes = list(
            await s.scalars(
                select(Event)
                .where(
                    Event.order_id == uuid.UUID(order["id"]), Event.type == "order.status_changed"
                )
                .order_by(Event.seq)
            )
        )
    assert [(e.data["from"], e.data["to"]) for e in changes] == [
        ("confirmed", "preparing"),
        ("preparing", "ready"),
    ]
    assert changes[-1].data["reason"] == "all stations done"
    r = await client.get(f"{API}/orders/{order['id']}", headers=bearer(me))
    assert r.json()["data"]["status"] == "ready"
    # Done lines of a ready order are not open any more: a late undo is refused.
    err = assert_error(
        await client.delete(_done_url(order["id"], 0), headers=bearer(kitchen)),
        409,
        "LINE_NOT_OPEN",
    )
    assert err["details"] == [{"field": "status", "issue": "not_open", "current": "ready"}]


async def test_line_marks_refused_for_others_and_for_closed_or_unknown_lines(client, container):
    m = await seed_menu(container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    delivery = await login_staff(client, container, "delivery", "+919000000301")
    me = await login_customer(client, container)
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    cancelled = (await place(client, me, order_body((m.chai, 1)))).json()["data"]
    r = await client.post(f"{API}/orders/{cancelled['id']}/cancel", headers=bearer(me))
    assert r.status_code == 200
    marks, events = await _count(container, LineMark), await _count(container, Event)
    for who in (me, delivery):
        for method in ("PUT", "DELETE"):
            r = await client.request(method, _done_url(order["id"], 0), headers=bearer(who))
            err = assert_error(r, 403, "INSUFFICIENT_ROLE")
            assert err["details"][0]["required_roles"] == ["admin", "kitchen"]
        assert_error(await client.get(f"{S}/marks", headers=bearer(who)), 403, "INSUFFICIENT_ROLE")
    err = assert_error(
        await client.put(_done_url(cancelled["id"], 0), headers=bearer(kitchen)),
        409,
        "LINE_NOT_OPEN",
    )
    assert err["message"] == "Lines are marked done only while the order is being made"
    err = assert_error(
        await client.put(_done_url(order["id"], 7), headers=bearer(kitchen)), 404, "NOT_FOUND"
    )
    assert err["message"] == "No such line in this order"
    err = assert_error(
        await client.put(_done_url(uuid.uuid4(), 0), headers=bearer(kitchen)), 404, "NOT_FOUND"
    )
    assert err["message"] == "No such order"
    err = assert_error(
        await client.put(_done_url(order["id"], -1), headers=bearer(kitchen)),
        400,
        "VALIDATION_ERROR",
    )
    assert err["details"][0]["field"] == "position"
    assert await _count(container, LineMark) == marks
    assert await _count(container, Event) == events
    async with container.sessionmaker() as s:
        assert (await s.get(Order, uuid.UUID(order["id"]))).status == "confirmed"


async def test_the_kitchen_stream_for_one_station_with_replay(app, client, container):
    m = await seed_menu(container)
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    me = await login_customer(client, container)
    tawa = await _station(client, admin, "Dosa tawa")
    await _assign(client, admin, m.dosa, tawa["id"])
    stream = f"{API}/admin/orders/stream"
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        params = {"token": kitchen["access_token"], "station": tawa["id"]}
        async with http.stream("GET", stream, params=params) as resp:
            assert resp.status_code == 200
            reading = asyncio.create_task(_events(resp, 4))
            await asyncio.sleep(0.2)
            chai = (await place(client, me, order_body((m.chai, 1)))).json()["data"]
            dosa = (await place(client, me, order_body((m.dosa, 1), (m.chai, 1)))).json()["data"]
            await client.put(_done_url(chai["id"], 0), headers=bearer(kitchen))
            await client.put(_done_url(dosa["id"], 0), headers=bearer(kitchen))
            r = await client.patch(
                f"{API}/admin/menu/items/{m.samosa}/availability",
                json={"is_available": False},
                headers=bearer(kitchen),
            )
            assert r.status_code == 200
            events = await reading
        seen = [(e["event"], e["data"].get("order_id")) for e in events]
        assert seen == [
            ("hello", None),
            ("order.created", dosa["id"]),
            ("order.line_done", dosa["id"]),
            ("menu.updated", None),
        ], seen
        # Replay from the first event: the same filter, nothing of the chai-only order.
        first = events[1]["id"]
        async with http.stream(
            "GET", stream, params=params, headers={"Last-Event-ID": first}
        ) as resp:
            replayed = await _events(resp, 3)
        assert [e["id"] for e in replayed[1:]] == [events[2]["id"], events[3]["id"]]
        assert replayed[0]["data"] == {"last_event_id": int(first), "replay": True}
        # The whole kitchen stream still has every order's events.
        async with http.stream(
            "GET",
            stream,
            params={"token": kitchen["access_token"]},
            headers={"Last-Event-ID": first},
        ) as resp:
            everything = await _events(resp, 4)
        assert [e["data"].get("order_id") for e in everything[1:]] == [
            chai["id"],
            dosa["id"],
            None,
        ]
        # Refusals before any streaming.
        r = await http.get(
            stream, params={"token": kitchen["access_token"], "station": str(uuid.uuid4())}
        )
        err = assert_error(r, 404, "NOT_FOUND")
        assert err["message"] == "No such station"
        r = await http.get(stream, params={"token": me["access_token"], "station": tawa["id"]})
        assert_error(r, 403, "INSUFFICIENT_ROLE")
        r = await http.get(stream, params={"token": kitchen["access_token"], "station": "tawa"})
        assert_error(r, 400, "VALIDATION_ERROR")
