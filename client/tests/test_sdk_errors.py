"""Error responses parsed into typed failures (design §11.2)."""

from __future__ import annotations

import httpx
import pytest

from canteen_client import (
    ApiFailure,
    AuthFailure,
    CanteenError,
    ConflictFailure,
    NetworkFailure,
    NotFoundFailure,
    RateLimitFailure,
    ServerFailure,
    ValidationFailure,
)
from canteen_client.errors import failure_from_response

from .sdk_harness import API


async def test_rate_limit_carries_the_wait_and_is_not_retried(api, wire, slept):
    await api.auth.request_otp("+919876500099")
    with pytest.raises(RateLimitFailure) as err:
        await api.auth.request_otp("+919876500099")  # within the 30 s resend cooldown
    failure = err.value
    assert failure.status == 429 and failure.code == "RATE_LIMITED"
    assert 0 < failure.retry_after <= 30
    assert len(wire.calls("POST", f"{API}/auth/request-otp")) == 2
    assert slept.delays == []


async def test_not_found_and_method_not_allowed(api):
    with pytest.raises(NotFoundFailure) as nf:
        await api.request("GET", "/no/such/route", auth=False)
    assert nf.value.code == "NOT_FOUND" and nf.value.request_id
    with pytest.raises(ApiFailure) as other:
        await api.request("DELETE", "/menu/categories", auth=False)
    assert other.value.status == 405 and type(other.value) is ApiFailure


def _response(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    request = httpx.Request("GET", "http://x/api/v1/y")
    if body is None:
        return httpx.Response(status, headers=headers, request=request, content=b"oops")
    return httpx.Response(status, json=body, headers=headers, request=request)


def _err(code: str, details: list | None = None) -> dict:
    return {"error": {"code": code, "message": f"{code} happened", "details": details or []}}


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "VALIDATION_ERROR", ValidationFailure),
        (422, "IDEMPOTENCY_KEY_REUSED", ValidationFailure),
        (401, "TOKEN_EXPIRED", AuthFailure),
        (401, "INVALID_TOKEN", AuthFailure),
        (403, "INSUFFICIENT_ROLE", AuthFailure),
        (404, "NOT_FOUND", NotFoundFailure),
        (409, "ITEM_UNAVAILABLE", ConflictFailure),
        (409, "RESTAURANT_CLOSED", ConflictFailure),
        (429, "RATE_LIMITED", RateLimitFailure),
        (500, "INTERNAL_ERROR", ServerFailure),
        (503, "SERVICE_UNAVAILABLE", ServerFailure),
    ],
)
def test_the_mapping_table(status, code, kind):
    failure = failure_from_response(_response(status, _err(code), {"Retry-After": "7"}))
    assert type(failure) is kind and failure.code == code and failure.status == status
    assert failure.message == f"{code} happened"
    assert isinstance(failure, CanteenError)
    if kind is RateLimitFailure:
        assert failure.retry_after == 7


def test_details_are_parsed():
    failure = failure_from_response(
        _response(
            409,
            _err(
                "ITEM_UNAVAILABLE",
                [
                    {
                        "menu_item_id": "a",
                        "reason": "out_of_stock",
                        "name": "Samosa",
                        "available": 2,
                    },
                    {"menu_item_id": "b", "reason": "not_found"},
                ],
            ),
        )
    )
    assert isinstance(failure, ConflictFailure)
    first, second = failure.unavailable_items
    assert (first.menu_item_id, first.reason, first.available) == ("a", "out_of_stock", 2)
    assert (second.menu_item_id, second.name) == ("b", None)

    validation = failure_from_response(
        _response(
            400,
            _err(
                "VALIDATION_ERROR",
                [{"field": "phone", "issue": "missing", "message": "Field required"}],
            ),
        )
    )
    assert isinstance(validation, ValidationFailure)
    assert validation.field_errors == {"phone": "Field required"}

    # A detail with only a token ("mismatch") takes the failure's own words.
    wrong_code = failure_from_response(
        _response(
            400,
            {
                "error": {
                    "code": "INVALID_OTP",
                    "message": "That code is not right; 4 tries left",
                    "details": [{"field": "otp", "issue": "mismatch", "attempts_remaining": 4}],
                }
            },
        )
    )
    assert isinstance(wrong_code, ValidationFailure)
    assert wrong_code.field_errors == {"otp": "That code is not right; 4 tries left"}

    limited = failure_from_response(_response(429, _err("RATE_LIMITED", [{"retry_after": 12}])))
    assert isinstance(limited, RateLimitFailure) and limited.retry_after == 12


def test_a_body_that_is_not_the_error_contract():
    failure = failure_from_response(_response(502))
    assert isinstance(failure, ServerFailure) and failure.code == "HTTP_502"
    assert "502" in str(failure)


def test_network_failure_is_a_canteen_error():
    assert issubclass(NetworkFailure, CanteenError) and not issubclass(NetworkFailure, ApiFailure)
