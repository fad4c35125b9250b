"""A NUL character in any text a client sends is a 400, never a 500 (issue 13, point 11).

PostgreSQL refuses U+0000 in text and JSONB, so on that backend these requests used to
fail inside the database (500); SQLite stored the character. Both must now refuse it up
front, name the field, and write nothing.
"""

from __future__ import annotations

import json
import uuid

import pytest
from menu_support import counts, item_body, small_menu
from orders_helpers import order_body, place, seed_menu

from canteen.dev.models import DevOutboxMessage
from canteen.orders.models import Order
from canteen.users.models import User
from conftest import API, assert_error, bearer, count_rows, login_customer, login_staff


def _raw(body: object) -> bytes:
    # json.dumps writes U+0000 as the escape \u0000, as every JSON client does.
    return json.dumps(body).encode()


def _nul_detail(r, field: str) -> None:
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"] == [
        {
            "field": field,
            "issue": "nul_character",
            "message": "Text may not contain the NUL character (U+0000)",
        }
    ]


async def test_nul_in_menu_admin_bodies_is_400_and_writes_nothing(client, container):
    m = await small_menu(client, container)
    h = {**bearer(m.admin), "content-type": "application/json"}
    before = await counts(container)
    r = await client.post(
        f"{API}/admin/menu/categories", content=_raw({"name": "Tea\x00"}), headers=h
    )
    _nul_detail(r, "name")
    body = item_body(m.south, "Upma", description="soft\x00", time_slots=["breakfast"])
    r = await client.post(f"{API}/admin/menu/items", content=_raw(body), headers=h)
    _nul_detail(r, "description")
    r = await client.patch(
        f"{API}/admin/menu/items/{m.dosa}", content=_raw({"name": "Dosa\x00"}), headers=h
    )
    _nul_detail(r, "name")
    r = await client.post(
        f"{API}/admin/time-slots",
        content=_raw(
            {"code": "brunch", "label": "Br\x00unch", "start_time": "10:00", "end_time": "11:00"}
        ),
        headers=h,
    )
    _nul_detail(r, "label")
    assert await counts(container) == before


async def test_nul_in_an_order_line_is_400_and_places_nothing(client, container):
    m = await seed_menu(container)
    me = await login_customer(client, container)
    body = order_body((m.dosa, 1))
    body["items"][0]["notes"] = "no onion\x00"
    r = await client.post(
        f"{API}/orders",
        content=_raw(body),
        headers={**bearer(me), "X-Idempotency-Key": "nul-1", "content-type": "application/json"},
    )
    _nul_detail(r, "items.0.notes")
    assert await count_rows(container, Order) == 0
    # The same key then places the order once the text is fixed: nothing was claimed.
    body["items"][0]["notes"] = "no onion"
    r = await place(client, me, body, "nul-1")
    assert r.status_code == 201, r.text


async def test_nul_in_profile_and_sign_in_is_400(client, container):
    me = await login_customer(client, container)
    h = {**bearer(me), "content-type": "application/json"}
    r = await client.patch(f"{API}/users/me", content=_raw({"name": "Priya\x00"}), headers=h)
    _nul_detail(r, "name")
    async with container.sessionmaker() as s:
        user = await s.get(User, uuid.UUID(me["user"]["id"]))
        assert user is not None and user.name is None
    outbox = await count_rows(container, DevOutboxMessage)
    r = await client.post(
        f"{API}/auth/request-otp",
        content=_raw({"phone": "+9198765\x0043210"}),
        headers={"content-type": "application/json"},
    )
    _nul_detail(r, "phone")
    await container.jobs.drain()
    assert await count_rows(container, DevOutboxMessage) == outbox


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/admin/orders", {"q": "ab\x00c"}, "q"),
        ("/dev/outbox", {"to": "+91\x00"}, "to"),
        ("/admin/orders", {"unknown\x00": "1"}, "unknown\\u0000"),
        # The menu reads take the raw query string (canteen.menu.queries), cached or not.
        ("/menu/items", {"q": "dal\x00"}, "q"),
        ("/menu/categories", {"page": "1\x00"}, "page"),
    ],
)
async def test_nul_in_a_query_parameter_is_400(client, container, path, params, field):
    admin = await login_staff(client, container)
    r = await client.get(f"{API}{path}", params=params, headers=bearer(admin))
    _nul_detail(r, field)


async def test_nul_in_an_unread_property_or_key_is_400_too(client, container):
    me = await login_customer(client, container)
    h = {**bearer(me), "content-type": "application/json"}
    r = await client.patch(
        f"{API}/users/me", content=_raw({"name": "Priya", "extra": ["x", "y\x00"]}), headers=h
    )
    _nul_detail(r, "extra.1")
    r = await client.patch(f"{API}/users/me", content=_raw({"na\x00me": "Priya"}), headers=h)
    _nul_detail(r, "na\\u0000me")


async def test_an_escaped_backslash_before_u0000_is_plain_text(client, container):
    me = await login_customer(client, container)
    h = {**bearer(me), "content-type": "application/json"}
    # The six characters \u0000 (a backslash, then "u0000") are not a NUL character.
    r = await client.patch(f"{API}/users/me", content=_raw({"name": "back\\u0000slash"}), headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"] == "back\\u0000slash"
