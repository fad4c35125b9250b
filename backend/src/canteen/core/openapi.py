"""The OpenAPI document, made to say what the API really answers (issue 13, design §13.1).

FastAPI documents a route's success answer and a 422 the API never sends (validation
errors are 400 `VALIDATION_ERROR`, design §11.2). This rewrites each operation's error
answers from what the route depends on, so a new route is documented by the same rules
without anyone remembering to:

- 400 on every operation: parameters and bodies are validated, and a NUL character in any
  query parameter or JSON string is refused (`canteen.core.textguard`), known or not
- 401 when it needs a bearer token (a dependency marked `needs_bearer_token`, such as
  `canteen.auth.deps.get_current_user`)
- 403 when it is limited to roles (`require_roles`)
- 404 when it has a path id
- 413 when it takes a body
- 503 on every operation: Redis or the job queue it needs may be unreachable
- what only some routes answer (409 conflicts, 429 rate limits, a 422, 404s for ids in a
  body) comes from `EXTRA`, keyed by operation id and checked against the routes by tests

Every error answer has the one error envelope (`ErrorResponse`, `canteen.core.errors`).
Schemathesis checks the whole document against a live server in `make test`
(backend/tests/contract).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from canteen.core.textguard import reject_nul_characters

_BEARER_DEPENDENCIES: set[Any] = set()

_F = TypeVar("_F", bound=Callable[..., Any])


def needs_bearer_token(func: _F) -> _F:
    """Mark a dependency that answers 401 without a valid bearer token (documented so)."""
    _BEARER_DEPENDENCIES.add(func)
    return func


ERROR_SCHEMA = "ErrorResponse"
_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}

ERROR_RESPONSE_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA,
    "description": "The one error envelope: a stable `code` (design §11.2), a message for "
    "people and `details` (for validation errors one entry per field: "
    "`{field, issue, message}`).",
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
                "message": {"type": "string", "minLength": 1},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}

_RETRY_AFTER = {
    "description": "Seconds to wait before trying again",
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}

COMMON: dict[int, str] = {
    400: "`VALIDATION_ERROR`: a parameter or the body is not valid (one `details` entry per "
    "field), the body is not JSON, or a text contains a NUL character",
    401: "`INVALID_TOKEN` (sign in again) or `TOKEN_EXPIRED` (refresh and retry)",
    403: "`INSUFFICIENT_ROLE`: the account's role may not call this",
    404: "`NOT_FOUND`: no such resource (or not yours)",
    413: "`PAYLOAD_TOO_LARGE`: the body is larger than this route accepts",
    503: "`SERVICE_UNAVAILABLE`: a service the request needs (Redis, the job queue) is "
    "unreachable; retry after `Retry-After`",
}

# What only some routes answer, by operation id: {status: description}.
EXTRA: dict[str, dict[int, str]] = {
    "auth-request_otp": {
        429: "`RATE_LIMITED`: too many codes for this phone or this client",
    },
    "auth-verify_otp": {
        403: "`ACCOUNT_DISABLED`, or a staff phone (staff sign in with their password)",
        429: "`RATE_LIMITED`: too many sign-in attempts from this client",
    },
    "auth-staff_login": {
        401: "`INVALID_CREDENTIALS`: unknown phone, wrong password or not a staff account",
        403: "`ACCOUNT_DISABLED`",
        429: "`RATE_LIMITED`: too many sign-in attempts from this client",
    },
    "auth-refresh": {401: "`INVALID_TOKEN`: unknown, expired or reused refresh token"},
    "users-create_staff": {409: "`PHONE_TAKEN`"},
    "users-update_staff": {409: "`CANNOT_CHANGE_OWN_ACCOUNT`"},
    "menu-admin-delete_category": {409: "`CATEGORY_NOT_EMPTY`"},
    "menu-admin-create_time_slot": {409: "`TIME_SLOT_CODE_TAKEN`"},
    "menu-admin-update_time_slot": {409: "`TIME_SLOT_CODE_TAKEN`"},
    "menu-admin-delete_time_slot": {409: "`TIME_SLOT_IN_USE`"},
    "orders-create_order": {
        409: "`ITEM_UNAVAILABLE`, `PRICE_CHANGED`, `ORDER_TOO_LARGE`, `RESTAURANT_CLOSED`, "
        "`ORDERING_PAUSED`, `DELIVERY_DISABLED`, `PAYMENT_METHOD_DISABLED`, `SLOT_FULL` (the "
        "kitchen window is full; `details` lists the next windows with room; or, one detail "
        "`ends_too_soon`, the slot ends before the order could be ready) or "
        "`IDEMPOTENCY_IN_PROGRESS` (retry shortly with the same key)",
        422: "`IDEMPOTENCY_KEY_REUSED`: this key placed a different order",
    },
    "orders-cancel_my_order": {409: "`INVALID_TRANSITION`: the kitchen has started"},
    "orders-order_feedback": {409: "`ORDER_NOT_COMPLETED` or `FEEDBACK_EXISTS`"},
    "payments-verify_payment": {
        404: "`NOT_FOUND`: no such order of yours",
        409: "`PAYMENT_NOT_STARTED`",
    },
    "payments-retry_payment": {409: "`PAYMENT_NOT_RETRYABLE`"},
    "payments-switch_to_cash": {409: "`PAYMENT_NOT_RETRYABLE` or `PAYMENT_METHOD_DISABLED`"},
    "kitchen-change_status": {
        409: "`INVALID_TRANSITION`, `PAYMENT_PENDING` or `PICKUP_CODE_MISMATCH`",
    },
    "kitchen-handover": {409: "`INVALID_TRANSITION`, `PAYMENT_PENDING` or `PICKUP_CODE_MISMATCH`"},
    "kitchen-assign_delivery": {409: "`NOT_A_DELIVERY_ORDER` or `INVALID_TRANSITION`"},
    "kitchen-counter_lookup": {
        404: "`ORDER_NOT_FOUND`: no ready pickup order has this code",
        409: "`ORDER_NOT_COLLECTED`: today's order with this code passed its collection "
        "window (details: `order_number`, `status`, `ready_at`)",
    },
    "delivery-delivery_status": {
        409: "`INVALID_TRANSITION` or `PICKUP_CODE_MISMATCH` (the customer's code at the door)",
    },
    "stations-create_station": {409: "`STATION_NAME_TAKEN` (names are unique whatever their case)"},
    "stations-update_station": {409: "`STATION_NAME_TAKEN` (names are unique whatever their case)"},
    "stations-mark_done": {409: "`LINE_NOT_OPEN`: the order is not being made"},
    "stations-mark_undone": {409: "`LINE_NOT_OPEN`: the order is not being made"},
    "kitchen-windows": {
        404: "`NOT_FOUND`: no active time slot has this code, or (no `time_slot` given) the "
        "canteen has no active slot",
    },
    "kitchen-set_capacity": {404: "`NOT_FOUND`: no time slot has this code"},
    "realtime-menu_stream": {
        401: "`INVALID_TOKEN` or `TOKEN_EXPIRED` (token in `?token=` or `Authorization`)",
    },
    "realtime-kitchen_stream": {
        401: "`INVALID_TOKEN` or `TOKEN_EXPIRED` (token in `?token=` or `Authorization`)",
        403: "`INSUFFICIENT_ROLE`: kitchen staff and admins only",
        404: "`NOT_FOUND`: no such station (`?station=`)",
    },
}


IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "X-Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "A new UUID per checkout attempt, sent again on its retries (design §6.3): "
    "1 to 255 visible ASCII characters, bare or as a quoted string. The same key with the "
    "same body answers the order already placed (200); with another body, 422.",
    # Exactly what orders.idempotency.parse_key accepts.
    "schema": {"type": "string", "pattern": '^(?:"[!-~]{1,255}"|(?!"[!-~]*"$)[!-~]{1,255})$'},
    "example": "6f1c3c1e-8f0a-4f7e-9d38-2f4f2f0c9a11",
}

# Parameters and bodies a route reads by hand, so its signature cannot declare them.
PARAMETERS: dict[str, dict[str, dict[str, Any]]] = {
    # Read from the request (orders/endpoints.py) so that a missing key gets its own
    # message (orders/idempotency.py); it is required all the same.
    "orders-create_order": {"X-Idempotency-Key": IDEMPOTENCY_KEY_PARAMETER},
    "payments-razorpay_webhook": {
        "X-Razorpay-Signature": {
            "name": "X-Razorpay-Signature",
            "in": "header",
            "required": True,
            "description": "HMAC-SHA256 of the raw body with the webhook secret (hex)",
            "schema": {"type": "string"},
        },
    },
}


def digits_up_to(limit: int) -> str:
    """A pattern for ASCII digits whose value is at most `limit` (leading zeros allowed),
    with no more digits than `limit` has: what a number check says, as a regex."""
    top = str(limit)
    alternatives = [f"[0-9]{{1,{len(top) - 1}}}"] if len(top) > 1 else []
    for i, digit in enumerate(top):
        rest = len(top) - i - 1
        if digit != "0":
            tail = f"[0-9]{{{rest}}}" if rest else ""
            alternatives.append(f"{top[:i]}[0-{int(digit) - 1}]{tail}")
    alternatives.append(top)
    return "^(?:" + "|".join(alternatives) + ")$"


# A resume position is a seq an event could have: 1 to 19 ASCII digits up to the largest
# 64-bit seq, exactly what realtime.sse.parse_seq accepts (the server's parse is
# the rule; backend/tests/unit/test_seq_pattern.py holds the two together).
MAX_SEQ = 2**63 - 1
_SEQ = {"type": "string", "pattern": digits_up_to(MAX_SEQ)}
PARAMETERS["realtime-menu_stream"] = PARAMETERS["realtime-kitchen_stream"] = {
    "last_event_id": {
        "name": "last_event_id",
        "in": "query",
        "required": False,
        "description": "Resume after this event sequence number (for clients that cannot "
        "send Last-Event-ID)",
        "schema": _SEQ,
    },
    "Last-Event-ID": {
        "name": "Last-Event-ID",
        "in": "header",
        "required": False,
        "description": "Resume after this event sequence number (EventSource sends it)",
        "schema": _SEQ,
    },
}
BODIES: dict[str, dict[str, Any]] = {
    "payments-razorpay_webhook": {
        "required": True,
        "description": "A Razorpay webhook event, verified over its raw bytes",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["event"],
                    "properties": {
                        "event": {"type": "string", "examples": ["payment.captured"]},
                        "payload": {"type": "object"},
                    },
                }
            }
        },
    },
}


def _declare_inputs(operation: dict[str, Any]) -> None:
    op_id = operation.get("operationId", "")
    declared = PARAMETERS.get(op_id, {})
    if declared:
        kept = [p for p in operation.get("parameters", []) if p.get("name") not in declared]
        operation["parameters"] = kept + list(declared.values())
    if op_id in BODIES:
        operation["requestBody"] = BODIES[op_id]


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def error_statuses(route: APIRoute, operation: dict[str, Any]) -> dict[int, str]:
    """The error answers of one route, from its dependencies, parameters and body."""
    calls = [d.call for d in _dependants(route.dependant)]
    statuses = {400: COMMON[400], 503: COMMON[503]}
    if any(c in _BEARER_DEPENDENCIES for c in calls):
        statuses[401] = COMMON[401]
    if any(getattr(c, "__qualname__", "").startswith("require_roles.") for c in calls):
        statuses[403] = COMMON[403]
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses[404] = COMMON[404]
    if "requestBody" in operation:
        statuses[413] = COMMON[413]
    statuses.update(EXTRA.get(operation.get("operationId", ""), {}))
    return statuses


def _error_response(status: int, description: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ERROR_REF}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": {**_RETRY_AFTER, "required": status == 429}}
    return response


def _is_schema_ref_to(value: Any, name: str) -> bool:
    return isinstance(value, dict) and value.get("$ref") == f"#/components/schemas/{name}"


def describe_errors(app: FastAPI, spec: dict[str, Any]) -> dict[str, Any]:
    """Give every operation of `spec` (FastAPI's document for `app`) its error answers."""
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_SCHEMA] = ERROR_RESPONSE_SCHEMA
    routes = {
        (method.lower(), route.path_format): route
        for route in app.routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods
    }
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            route = routes.get((method, path))
            if route is None:
                continue
            _declare_inputs(operation)
            responses = operation.setdefault("responses", {})
            # FastAPI's 422 (HTTPValidationError) is never sent: validation is 400.
            if "422" in responses and _is_schema_ref_to(
                responses["422"].get("content", {}).get("application/json", {}).get("schema"),
                "HTTPValidationError",
            ):
                del responses["422"]
            for status, description in sorted(error_statuses(route, operation).items()):
                responses[str(status)] = _error_response(status, description)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return spec


def install_contract(app: FastAPI) -> None:
    """Call before the routers are included: every route then refuses NUL characters
    (`reject_nul_characters`), and /openapi.json is FastAPI's document with
    `describe_errors` applied (built once, on first use)."""
    app.router.dependencies.append(Depends(reject_nul_characters))
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_errors(app, generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
