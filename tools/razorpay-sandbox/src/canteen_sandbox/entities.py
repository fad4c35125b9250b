"""What the sandbox stores and answers with: ids, error replies, events, request checks.

Wire formats, error bodies and signatures follow docs/design/integrations.md §1; where
Razorpay's exact wording is not documented the sandbox's own wording is marked
"sandbox wording".
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
from dataclasses import dataclass
from typing import Any, Literal

DEFAULT_KEY_ID = "rzp_test_canteensandbox"
DEFAULT_KEY_SECRET = "sandbox_key_secret_change_me"  # public, test-only default
DEFAULT_WEBHOOK_SECRET = "sandbox_webhook_secret_change_me"

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{10,}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
# Schemes a callback may not use: they would run script or read local data on redirect.
UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob"})

JsonDict = dict[str, Any]
PAY_OUTCOMES: frozenset[str] = frozenset({"success", "failure", "pending"})


def new_id(prefix: str) -> str:
    # Razorpay ids: a prefix and 14 base62 characters, e.g. order_RB58MiP5SPFYyM.
    return prefix + "".join(secrets.choice(_BASE62) for _ in range(14))


def now() -> int:
    return int(time.time())


def notes_out(notes: Any) -> Any:
    # Razorpay (PHP) serialises empty notes as [] rather than {}; clients must cope.
    return notes if notes else []


class SandboxError(Exception):
    """A Razorpay-shaped error reply."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        code: str = "BAD_REQUEST_ERROR",
        field: str | None = None,
        source: str = "NA",
        step: str = "NA",
        reason: str = "NA",
    ) -> None:
        super().__init__(description)
        self.status = status
        self.body: JsonDict = {
            "error": {
                "code": code,
                "description": description,
                "source": source,
                "step": step,
                "reason": reason,
                "metadata": {},
                "field": field,
            }
        }


def invalid(description: str, field: str | None = None) -> SandboxError:
    return SandboxError(
        400,
        description,
        field=field,
        source="business",
        step="payment_initiation",
        reason="input_validation_failed",
    )


def not_found() -> SandboxError:
    # Razorpay answers unknown ids with 400, not 404.
    return SandboxError(400, "The id provided does not exist")


@dataclass(frozen=True)
class SandboxEvent:
    """A webhook event as emitted: the exact bytes sent on every attempt, and its id."""

    id: str  # the x-razorpay-event-id header, reused on retries
    event: str
    body: bytes
    signature: str
    created_at: int

    @property
    def payload(self) -> JsonDict:
        parsed: JsonDict = json.loads(self.body)
        return parsed


@dataclass(frozen=True)
class WebhookAttempt:
    event_id: str
    event: str
    attempt: int  # 1 for the first delivery, 2+ for retries
    url: str
    body: bytes
    headers: dict[str, str]
    status_code: int | None  # None: no response (timeout, refused connection)
    error: str | None
    duplicate: bool = False  # an extra copy injected by duplicate_next_webhook()

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class Delivery:
    event: SandboxEvent
    url: str


@dataclass
class RefundPlan:
    outcome: Literal["processed", "failed"]
    fingerprint: str


@dataclass
class Faults:
    duplicate: int = 0
    reorder: int = 0
    fail_refund: int = 0


def check_notes(notes: Any) -> JsonDict:
    if notes is None or notes == []:
        return {}
    if not isinstance(notes, dict):
        raise invalid("The notes field must be an object.", "notes")  # sandbox wording
    if len(notes) > 15:
        raise invalid("Number of fields in notes should be less than or equal to 15", "notes")
    for key, value in notes.items():
        if not isinstance(value, str | int | float) or len(str(value)) > 256:
            raise invalid(  # sandbox wording
                f"The notes value for {key!r} must be text of at most 256 characters.", "notes"
            )
    return dict(notes)


def update_refund_status(payment: JsonDict) -> None:
    refunded = payment["amount_refunded"]
    if refunded <= 0:
        payment["refund_status"] = None
        payment["status"] = "captured"
    elif refunded < payment["amount"]:
        payment["refund_status"] = "partial"
        payment["status"] = "captured"
    else:
        payment["refund_status"] = "full"
        payment["status"] = "refunded"


def checkout_error(payment: JsonDict) -> JsonDict:
    return {
        "code": payment["error_code"],
        "description": payment["error_description"],
        "source": payment["error_source"],
        "step": payment["error_step"],
        "reason": payment["error_reason"],
        "metadata": {"order_id": payment["order_id"], "payment_id": payment["id"]},
    }


def json_body(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise invalid("The request body is not valid JSON.") from None  # sandbox wording
