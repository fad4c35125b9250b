"""Typed failures (design §11.2): every error the SDK raises is a `CanteenError`.

    CanteenError
    ├── NetworkFailure          no answer: connection refused, timeout, dropped connection
    └── ApiFailure              the API answered with an error envelope
        ├── ValidationFailure   400 / 422: `field_errors`
        ├── AuthFailure         401 / 403 (and "not signed in"): `signed_out`
        ├── NotFoundFailure     404
        ├── ConflictFailure     409: `unavailable_items` for ITEM_UNAVAILABLE,
        │                       `price_changes`/`total_change` for PRICE_CHANGED,
        │                       `limits` for ORDER_TOO_LARGE
        ├── RateLimitFailure    429: `retry_after` seconds
        └── ServerFailure       5xx

`ApiFailure` itself is raised for any other status (405, 413, 415, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class CanteenError(Exception):
    """Base class of every failure the SDK raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NetworkFailure(CanteenError):
    """The API could not be reached or did not answer in time (offline banner + retry)."""

    def __init__(self, message: str, *, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class ApiFailure(CanteenError):
    """The API answered with `{"error": {"code", "message", "details"}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        *,
        request_id: str | None = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details: list[dict[str, Any]] = details or []
        self.request_id = request_id
        self.headers = headers or httpx.Headers()

    def __str__(self) -> str:
        rid = f" [request {self.request_id}]" if self.request_id else ""
        return f"{self.status} {self.code}: {self.message}{rid}"

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(status={self.status}, code={self.code!r}, message={self.message!r})"


class ValidationFailure(ApiFailure):
    """400 VALIDATION_ERROR (and the other 400/422 codes): show field-level errors."""

    @property
    def field_errors(self) -> dict[str, str]:
        """`{field: message}` for the details that name a field (first message per field).

        A detail without its own message gets the failure's message: its `issue` is a
        token for programs ("mismatch", "expired"), never words to show a person."""
        errors: dict[str, str] = {}
        for detail in self.details:
            field = detail.get("field")
            if isinstance(field, str):
                errors.setdefault(field, str(detail.get("message") or self.message))
        return errors


class AuthFailure(ApiFailure):
    """401 / 403. `signed_out` is true when the SDK cleared the stored tokens because of it
    (INVALID_TOKEN, or a refresh the server refused): the app should show its login screen."""

    def __init__(self, *args: Any, signed_out: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed_out = signed_out


class NotFoundFailure(ApiFailure):
    """404 NOT_FOUND."""


@dataclass(frozen=True, slots=True)
class UnavailableItem:
    """One entry of a 409 ITEM_UNAVAILABLE: which cart line cannot be ordered, and why.

    `reason` is `not_found`, `unavailable`, `not_in_time_slot` or `out_of_stock`
    (`available` then says how many are left)."""

    menu_item_id: str
    reason: str
    name: str | None = None
    available: int | None = None
    time_slot: str | None = None


@dataclass(frozen=True, slots=True)
class PriceChange:
    """One line of a 409 PRICE_CHANGED: the price the cart showed and the server's."""

    menu_item_id: str
    name: str | None
    old_price: int
    new_price: int


@dataclass(frozen=True, slots=True)
class TotalChange:
    """The `expected_total` entry of a 409 PRICE_CHANGED (delivery fee included)."""

    old_total: int
    new_total: int


@dataclass(frozen=True, slots=True)
class OrderLimit:
    """One entry of a 409 ORDER_TOO_LARGE: `field` is `items` or `total`."""

    field: str
    issue: str
    limit: int | None
    requested: int | None
    message: str | None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class ConflictFailure(ApiFailure):
    """409: ITEM_UNAVAILABLE, PRICE_CHANGED, ORDER_TOO_LARGE, RESTAURANT_CLOSED,
    ORDERING_PAUSED, INVALID_TRANSITION, ..."""

    @property
    def price_changes(self) -> list[PriceChange]:
        """PRICE_CHANGED: the lines whose price is no longer the one sent."""
        changes: list[PriceChange] = []
        for detail in self.details:
            item_id = detail.get("menu_item_id")
            old, new = _int(detail.get("old_price")), _int(detail.get("new_price"))
            if item_id is None or old is None or new is None:
                continue
            name = detail.get("name")
            changes.append(
                PriceChange(str(item_id), str(name) if name is not None else None, old, new)
            )
        return changes

    @property
    def total_change(self) -> TotalChange | None:
        """PRICE_CHANGED: the total sent and the server's, when they differ."""
        for detail in self.details:
            if detail.get("field") == "expected_total":
                old, new = _int(detail.get("old_total")), _int(detail.get("new_total"))
                if old is not None and new is not None:
                    return TotalChange(old, new)
        return None

    @property
    def limits(self) -> list[OrderLimit]:
        """ORDER_TOO_LARGE: each limit the order broke, with the API's message."""
        if self.code != "ORDER_TOO_LARGE":
            return []
        return [
            OrderLimit(
                field=str(d.get("field")),
                issue=str(d.get("issue", "")),
                limit=_int(d.get("limit")),
                requested=_int(d.get("requested")),
                message=str(d["message"]) if d.get("message") else None,
            )
            for d in self.details
            if isinstance(d.get("field"), str)
        ]

    @property
    def unavailable_items(self) -> list[UnavailableItem]:
        items: list[UnavailableItem] = []
        for detail in self.details:
            item_id = detail.get("menu_item_id")
            if item_id is None or detail.get("reason") == "price_changed":
                continue
            available = detail.get("available")
            items.append(
                UnavailableItem(
                    menu_item_id=str(item_id),
                    reason=str(detail.get("reason", "unavailable")),
                    name=detail.get("name"),
                    available=int(available) if isinstance(available, int) else None,
                    time_slot=detail.get("time_slot"),
                )
            )
        return items


class RateLimitFailure(ApiFailure):
    """429 RATE_LIMITED: "try again in `retry_after` seconds". Never retried automatically."""

    def __init__(self, *args: Any, retry_after: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class ServerFailure(ApiFailure):
    """5xx: "something went wrong" (already retried when the request was safe to repeat)."""


def _retry_after(response: httpx.Response, details: list[dict[str, Any]]) -> float:
    header = response.headers.get("retry-after")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                when = parsedate_to_datetime(header)
                date = parsedate_to_datetime(response.headers.get("date", header))
                return max(0.0, float((when - date).total_seconds()))
            except (TypeError, ValueError):
                pass
    for detail in details:
        value = detail.get("retry_after")
        if isinstance(value, int | float):
            return float(value)
    return 1.0


def failure_from_response(response: httpx.Response) -> ApiFailure:
    """Map an error response to its typed failure (design §11.2)."""
    status = response.status_code
    code, message, details = f"HTTP_{status}", response.reason_phrase or "Request failed", []
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
        raw_details = error.get("details")
        if isinstance(raw_details, list):
            details = [d for d in raw_details if isinstance(d, dict)]
    kwargs: dict[str, Any] = {
        "request_id": response.headers.get("x-request-id"),
        "headers": response.headers,
    }
    if status in (400, 422):
        return ValidationFailure(status, code, message, details, **kwargs)
    if status in (401, 403):
        return AuthFailure(status, code, message, details, **kwargs)
    if status == 404:
        return NotFoundFailure(status, code, message, details, **kwargs)
    if status == 409:
        return ConflictFailure(status, code, message, details, **kwargs)
    if status == 429:
        retry_after = _retry_after(response, details)
        return RateLimitFailure(status, code, message, details, retry_after=retry_after, **kwargs)
    if status >= 500:
        return ServerFailure(status, code, message, details, **kwargs)
    return ApiFailure(status, code, message, details, **kwargs)
