"""The OpenAPI document describes what the API does (issue 13, point 12).

Fast checks of the document itself; backend/tests/contract/test_schemathesis.py then
checks it against a live server.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from orders_helpers import seed_menu
from pydantic import ValidationError

from canteen.core.errors import AppError
from canteen.core.openapi import BODIES, ERROR_SCHEMA, EXTRA, PARAMETERS
from canteen.menu.schemas import TimeSlotCreate
from canteen.orders.idempotency import parse_key
from conftest import API, bearer, login_customer, login_staff

_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}


async def _spec(client) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    spec: dict[str, Any] = r.json()
    return spec


def _operations(spec: dict[str, Any]):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def _schema_validator(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    # Resolve #/components/... refs against the whole document.
    return jsonschema.Draft202012Validator({**schema, "components": spec["components"]})


async def test_every_operation_documents_its_errors_and_never_422(client):
    spec = await _spec(client)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, method, op in _operations(spec):
        responses = op["responses"]
        where = f"{method.upper()} {path}"
        for status in ("400", "503"):
            assert responses[status]["content"]["application/json"]["schema"] == _ERROR_REF, where
        if op.get("security"):
            assert "401" in responses, where
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            assert "404" in responses, where
        if "requestBody" in op:
            assert "413" in responses, where
        if "429" in responses:
            assert responses["429"]["headers"]["Retry-After"]["required"] is True, where
        # The one 422 the API sends: an idempotency key reused for another order.
        assert ("422" in responses) == (op["operationId"] == "orders-create_order"), where
    ops = {op["operationId"]: op for _, _, op in _operations(spec)}
    assert "403" in ops["menu-admin-create_item"]["responses"]  # admin only
    assert "403" not in ops["orders-my_orders"]["responses"]  # any signed-in account
    assert "429" in ops["auth-verify_otp"]["responses"]


async def test_per_route_tables_name_real_operations(client):
    spec = await _spec(client)
    ids = {op["operationId"] for _, _, op in _operations(spec)}
    stale = (set(EXTRA) | set(PARAMETERS) | set(BODIES)) - ids
    assert not stale, f"entries for operations that no longer exist: {sorted(stale)}"


async def test_real_errors_match_the_documented_envelope(client, container):
    spec = await _spec(client)
    validator = _schema_validator(spec, _ERROR_REF)
    me = await login_customer(client, container)
    answers = [
        await client.get(f"{API}/orders/00000000-0000-0000-0000-000000000000", headers=bearer(me)),
        await client.post(f"{API}/auth/verify-otp", json={"phone": "", "otp": "1"}),
        await client.get(f"{API}/users/me"),
        await client.get(f"{API}/admin/config", headers=bearer(me)),
        await client.post(f"{API}/orders", json={}, headers=bearer(me)),
    ]
    assert [r.status_code for r in answers] == [404, 400, 401, 403, 400]
    for r in answers:
        validator.validate(r.json())


async def test_slot_times_are_documented_as_sent(client, container):
    spec = await _spec(client)
    schemas = spec["components"]["schemas"]
    await seed_menu(container)
    r = await client.get(f"{API}/config/public")
    slot = r.json()["data"]["time_slots"][0]
    assert re.fullmatch(r"\d\d:\d\d:\d\d", slot["start_time"])
    for name in ("TimeSlotOut", "PublicTimeSlot"):
        prop = schemas[name]["properties"]["start_time"]
        # format: time (RFC 3339) would require a zone the API does not send.
        assert "format" not in prop
        assert re.search(prop["pattern"], slot["start_time"])
    _schema_validator(spec, {"$ref": "#/components/schemas/Envelope_PublicConfig_"}).validate(
        r.json()
    )


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("12:30", True),
        ("07:30:00", True),
        ("23:59:59.123456", True),
        ("7:30", False),
        ("12:30:00Z", False),
        ("12:30+05:30", False),
        ("24:00", False),
        ("12:30:00.1234567", False),
        ("١٢:٣٠", False),  # Arabic-Indic digits: \d would take them, the API does not
    ],
)
async def test_slot_time_pattern_is_what_the_api_accepts(client, value, accepted):
    spec = await _spec(client)
    pattern = spec["components"]["schemas"]["TimeSlotCreate"]["properties"]["start_time"]["pattern"]
    assert bool(re.search(pattern, value)) is accepted
    body = {"code": "brunch", "label": "Brunch", "start_time": value, "end_time": "23:59"}
    try:
        TimeSlotCreate.model_validate(body)
        valid = True
    except ValidationError:
        valid = False
    assert valid is accepted


@pytest.mark.parametrize(
    "code", ["lunch", " Lunch ", "current", "NOW", "all", "a", "late_night", "9am", "x" * 33]
)
async def test_new_slot_code_pattern_is_what_the_api_accepts(client, code):
    spec = await _spec(client)
    pattern = spec["components"]["schemas"]["TimeSlotCreate"]["properties"]["code"]["pattern"]
    body = {"code": code, "label": "L", "start_time": "10:00", "end_time": "11:00"}
    try:
        TimeSlotCreate.model_validate(body)
        valid = True
    except ValidationError:
        valid = False
    assert bool(re.search(pattern, code)) is valid


@pytest.mark.parametrize(
    "key", ["abc", "6f1c3c1e-8f0a-4f7e", '"abc"', '""', '"', "has space", "é", "x" * 255, "x" * 256]
)
async def test_idempotency_key_is_required_and_its_pattern_is_what_the_api_accepts(client, key):
    spec = await _spec(client)
    op = spec["paths"][f"{API}/orders"]["post"]
    [param] = [p for p in op["parameters"] if p["name"] == "X-Idempotency-Key"]
    assert param["in"] == "header" and param["required"] is True
    try:
        parse_key(key)
        valid = True
    except AppError:
        valid = False
    assert bool(re.search(param["schema"]["pattern"], key)) is valid


async def test_body_constraints_say_what_the_api_refuses(client):
    schemas = (await _spec(client))["components"]["schemas"]
    for name in ("MenuItemCreate", "MenuItemUpdate"):
        assert schemas[name]["properties"]["time_slots"]["minItems"] == 1
    # PATCH bodies: leaving a field out keeps it, but null is refused where a value is needed.
    for name, field in [
        ("MenuItemUpdate", "sort_order"),
        ("MenuItemUpdate", "name"),
        ("CategoryUpdate", "sort_order"),
        ("TimeSlotUpdate", "start_time"),
        ("ConfigUpdate", "delivery_fee"),
    ]:
        prop = schemas[name]["properties"][field]
        assert "anyOf" not in prop and prop.get("type") != "null", (name, field, prop)
    # ... while a nullable one still offers null.
    assert {"type": "null"} in schemas["MenuItemUpdate"]["properties"]["daily_stock"]["anyOf"]


async def test_json_types_are_not_coerced(client, container):
    admin = await login_staff(client, container)
    for body in ({"name": "Snacks", "is_active": 1}, {"name": "Snacks", "sort_order": True}):
        r = await client.post(f"{API}/admin/menu/categories", json=body, headers=bearer(admin))
        assert r.status_code == 400, (body, r.text)
    r = await client.post(
        f"{API}/admin/menu/categories",
        json={"name": "Snacks", "sort_order": 2.0},
        headers=bearer(admin),
    )
    assert r.status_code == 201 and r.json()["data"]["sort_order"] == 2
    r = await client.get(f"{API}/admin/orders", params={"date": "0"}, headers=bearer(admin))
    assert r.status_code == 400


async def test_405_lists_every_method_of_the_path(client):
    r = await client.request("OPTIONS", f"{API}/admin/config")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, PATCH"


async def test_device_token_limit_is_the_columns(client, container):
    """Found by schemathesis on PostgreSQL: the schema allowed 4096 characters, the column
    holds 512, so a longer token was a 500 there (SQLite does not enforce the length)."""
    me = await login_customer(client, container)
    r = await client.post(
        f"{API}/users/device-token",
        json={"token": "t" * 513, "platform": "android"},
        headers=bearer(me),
    )
    assert r.status_code == 400, r.text
    r = await client.post(
        f"{API}/users/device-token",
        json={"token": "t" * 512, "platform": "android"},
        headers=bearer(me),
    )
    assert r.status_code == 200, r.text


async def test_number_bounds_are_json_schema_keywords(client):
    """A validator placed before a Field's bounds made pydantic write them as `ge`/`le`,
    which JSON Schema ignores: the document then allowed any integer."""
    spec = await _spec(client)
    leaked: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            leaked.extend(f"{where}.{k}" for k in ("ge", "le", "gt", "lt") if k in node)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(spec["components"]["schemas"], "components")
    assert not leaked, leaked
    assert spec["components"]["schemas"]["CategoryCreate"]["properties"]["sort_order"]["maximum"]


async def test_order_numbers_are_json_integers(client, container):
    from orders_helpers import order_body, place

    m = await seed_menu(container)
    me = await login_customer(client, container)
    for line in ({"quantity": True}, {"quantity": "2"}, {"unit_price": False}):
        body = order_body((m.dosa, 1))
        body["items"][0].update(line)
        r = await place(client, me, body)
        assert r.status_code == 400, (line, r.text)
    body = order_body((m.dosa, 1))
    body["items"][0]["quantity"] = 2.0
    r = await place(client, me, body)
    assert r.status_code == 201 and r.json()["data"]["items"][0]["quantity"] == 2
