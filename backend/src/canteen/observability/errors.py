"""Optional error reports to Sentry (CANTEEN_SENTRY_DSN), with personal data scrubbed.

Off unless a DSN is set. No default PII (no IPs, cookies or user fields), no performance
tracing (OpenTelemetry does that). Before an event leaves the process every value under a
sensitive key (token, otp, password, secret, authorization, phone, cookie, signature…) is
replaced, and in every other string phone numbers, JWTs, `token=`/`otp=` parameters and
six-digit codes next to the word OTP/code are masked: request bodies, local variables of
stack frames, breadcrumbs and messages alike.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from canteen.settings import Settings

REDACTED = "[redacted]"
_SENSITIVE_KEY = re.compile(
    r"token|otp|passw|secret|authori[sz]ation|cookie|phone|signature|api[_-]?key|"
    r"auth[_-]?key|dsn|credential|pickup_code",
    re.IGNORECASE,
)
_PATTERNS = (
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"),  # JWTs
    re.compile(r"\+?\d[\d -]{8,14}\d"),  # phone numbers, with or without +91 and spaces
    re.compile(r"(?i)\b(token|otp|code|password|secret)=([^&\s]+)"),  # query parameters
    re.compile(r"(?i)\b(otp|code)\b(\W{1,3})\d{4,8}\b"),  # "OTP 123456", "code: 1234"
    re.compile(r"\b\d{6}\b(?=\s+is your)"),  # our OTP SMS body
)


def _scrub_text(text: str) -> str:
    text = _PATTERNS[0].sub(REDACTED, text)
    text = _PATTERNS[1].sub(REDACTED, text)
    text = _PATTERNS[2].sub(lambda m: f"{m[1]}={REDACTED}", text)
    text = _PATTERNS[3].sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    return _PATTERNS[4].sub(REDACTED, text)


def scrub(value: Any, key: str = "") -> Any:
    if key and _SENSITIVE_KEY.search(key):
        return REDACTED if value not in (None, "", [], {}) else value
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Header lists come as [name, value] pairs: the name decides.
        if len(value) == 2 and isinstance(value[0], str) and _SENSITIVE_KEY.search(value[0]):
            return [value[0], REDACTED]
        return [scrub(v) for v in value]
    return value


def before_send(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    scrubbed: dict[str, Any] = scrub(event)
    return scrubbed


def install_sentry(settings: Settings, component: str) -> bool:
    """Report unhandled errors of this process (`component`: api, worker, beat)."""
    if not settings.sentry_dsn:
        return False
    import sentry_sdk

    from canteen import __version__

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=str(settings.env.value),
        release=f"canteen@{__version__}",
        server_name=component,
        send_default_pii=False,
        traces_sample_rate=None,
        max_request_body_size="small",
        before_send=before_send,  # type: ignore[arg-type]
        before_breadcrumb=lambda crumb, _hint: scrub(crumb),
    )
    return True
