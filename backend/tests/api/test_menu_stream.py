"""The students' live menu channel (issue #14, point 4): a sold-out dish, a new price or a
paused kitchen reaches an open menu at once, and a reconnect replays what it missed."""

from __future__ import annotations

import asyncio

import httpx
from live import serve
from orders_helpers import order_body, place, seed_menu

from canteen_testkit.sse import read_sse
from conftest import API, assert_error, bearer, login_customer, login_staff

# test_kitchen_86 reads the stream through this name.
_events = read_sse


def _what(events: list[dict]) -> list[tuple[str, str | None]]:
    return [(e["event"], e["data"].get("data", {}).get("action")) for e in events]


async def test_changes_reach_an_open_menu_live_and_a_reconnect_replays_them(app, client, container):
    m = await seed_menu(container, samosa_stock=2)
    me = await login_customer(client, container)
    friend = await login_customer(client, container, "+919876500009")
    admin = await login_staff(client, container, "admin", "+919000000101")
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as http:
        async with http.stream(
            "GET", f"{API}/menu/stream", params={"token": me["access_token"]}
        ) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            reading = asyncio.create_task(read_sse(resp, 4))
            await asyncio.sleep(0.2)
            # A friend buys the last samosas; the manager raises a price; the kitchen pauses.
            r = await place(client, friend, order_body((m.samosa, 2)))
            assert r.status_code == 201, r.text
            samosa_order = r.json()["data"]
            r = await client.patch(
                f"{API}/admin/menu/items/{m.dosa}", json={"price": 6500}, headers=bearer(admin)
            )
            assert r.status_code == 200, r.text
            r = await client.patch(
                f"{API}/admin/config", json={"ordering_paused": True}, headers=bearer(admin)
            )
            assert r.status_code == 200, r.text
            events = await reading
        assert _what(events) == [
            ("hello", None),
            ("menu.updated", "sold_out"),
            ("menu.updated", "updated"),
            ("config.updated", None),
        ], events
        sold_out = events[1]["data"]["data"]
        assert sold_out["id"] == str(m.samosa) and sold_out["name"] == "Samosa"
        assert events[2]["data"]["data"]["id"] == str(m.dosa)
        assert events[3]["data"]["data"]["changes"] == {"ordering_paused": True}
        # No personal data on the students' channel.
        assert all("actor_id" not in e["data"] and "order_id" not in e["data"] for e in events)
        ids = [int(e["id"]) for e in events[1:]]
        assert ids == sorted(ids)

        # The phone slept through two changes; it comes back with its last id.
        last_id = events[3]["id"]
        r = await client.patch(
            f"{API}/admin/config", json={"ordering_paused": False}, headers=bearer(admin)
        )
        assert r.status_code == 200, r.text
        # The friend cancels: the samosas are back.
        r = await client.post(f"{API}/orders/{samosa_order['id']}/cancel", headers=bearer(friend))
        assert r.status_code == 200, r.text
        async with http.stream(
            "GET",
            f"{API}/menu/stream",
            params={"token": me["access_token"]},
            headers={"Last-Event-ID": last_id},
        ) as resp:
            replay = await read_sse(resp, 3)
        assert replay[0]["data"] == {"last_event_id": int(last_id), "replay": True}
        assert _what(replay[1:]) == [("config.updated", None), ("menu.updated", "back_in_stock")]
        assert replay[2]["data"]["data"]["id"] == str(m.samosa)
        assert all(int(e["id"]) > int(last_id) for e in replay[1:])


async def test_the_menu_stream_refuses_bad_tokens_and_ids_before_streaming(client, container):
    r = await client.get(f"{API}/menu/stream")
    assert_error(r, 401, "INVALID_TOKEN")
    r = await client.get(f"{API}/menu/stream", params={"token": "junk"})
    assert_error(r, 401, "INVALID_TOKEN")
    me = await login_customer(client, container)
    for bad in ("1e23", "-1", "abc", "9" * 40, str(2**63)):
        r = await client.get(
            f"{API}/menu/stream",
            params={"token": me["access_token"]},
            headers={"Last-Event-ID": bad},
        )
        err = assert_error(r, 400, "VALIDATION_ERROR")
        assert err["details"] == [{"field": "Last-Event-ID", "issue": "invalid"}]
