"""Typed settings: every knob is a `CANTEEN_*` environment variable.

The embedded default needs no configuration at all; production must name real
providers and a real secret, and refuses to start otherwise (see `check_production`).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdef"
# The local Razorpay sandbox's public credentials (the same defaults as
# canteen_sandbox). They are filled in only for development and tests: anyone
# can sign a webhook with them, so production never sees them (see `check_production`).
SANDBOX_RAZORPAY_KEY_ID = "rzp_test_canteensandbox"
SANDBOX_RAZORPAY_KEY_SECRET = "sandbox_key_secret_change_me"
SANDBOX_RAZORPAY_WEBHOOK_SECRET = "sandbox_webhook_secret_change_me"
_SANDBOX_VALUES = {
    SANDBOX_RAZORPAY_KEY_ID,
    SANDBOX_RAZORPAY_KEY_SECRET,
    SANDBOX_RAZORPAY_WEBHOOK_SECRET,
}
# Words that mark a value as a placeholder copied from an example, not a real secret.
_PLACEHOLDER_MARKS = ("change-me", "change_me", "changeme", "placeholder", "insecure")


class Env(StrEnum):
    development = "development"
    production = "production"
    test = "test"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CANTEEN_", extra="ignore")

    env: Env = Env.development
    data_dir: Path = Path("./var")
    database_url: str | None = None
    redis_url: str | None = None
    celery_broker_url: str | None = None  # default: REDIS_URL; a Redis URL (the job queue)
    secret_key: str = DEV_SECRET_KEY

    # Providers: the first value of each is the development stand-in.
    sms_provider: str = "console"  # console | twilio | msg91
    payment_gateway: str = "sandbox"  # sandbox | razorpay
    push_provider: str = "dev"  # dev | fcm
    storage: str = "local"  # local | s3
    job_runner: str | None = None  # inprocess | celery; default follows REDIS_URL

    # Canteen identity
    timezone: str = "Asia/Kolkata"
    phone_region: str = "IN"
    public_base_url: str = "http://127.0.0.1:8000"
    # Development and tests only: this process's clock runs this many seconds ahead of real
    # time (behind, if negative). A test run gives every process one shift, so it sees the
    # same hour of the canteen's day whenever it runs; production refuses any shift.
    clock_offset_seconds: float = 0.0
    # Browser origins allowed to call /api/v1 cross-origin: comma-separated or a JSON list,
    # each `scheme://host[:port]` (e.g. the student app's web build on its own host).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # HTTP edge (canteen.core.middleware): request bodies larger than this are refused
    # with 413 before they are read; image uploads and webhooks have their own limits.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # /docs, /redoc and /openapi.json: default on in development and tests, off in production.
    api_docs: bool | None = None
    # /metrics (canteen.observability.metrics) answers only `Authorization: Bearer <this>`;
    # unset, it is off in production and open elsewhere.
    metrics_token: str | None = None
    # Celery workers serve their own metrics on this HOST:PORT (canteen.observability.worker).
    worker_metrics_addr: str | None = None
    # Error reports to Sentry (canteen.observability.errors); unset = off. Personal data
    # (phones, OTPs, tokens, passwords) is scrubbed before an event leaves the process.
    sentry_dsn: str | None = None

    # JWT
    jwt_issuer: str = "canteen"
    jwt_audience: str = "canteen-api"
    access_token_ttl_seconds: int = 3600
    refresh_token_ttl_seconds: int = 30 * 24 * 3600

    # OTP policy (integrations.md §3)
    otp_ttl_seconds: int = 300
    otp_resend_cooldown_seconds: int = 30
    otp_max_attempts: int = 5
    otp_sends_per_hour_per_phone: int = 5
    otp_requests_per_hour_per_ip: int = 30
    auth_attempts_per_minute_per_ip: int = 20
    trust_forwarded_for: bool = False

    # SMS providers
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str | None = None
    msg91_auth_key: str | None = None
    msg91_template_id: str | None = None
    msg91_base_url: str = "https://control.msg91.com"

    # Payments (Razorpay or the local sandbox, which uses the same three values)
    # Empty by default; development and tests get the sandbox's public values (below).
    razorpay_key_id: str = ""
    razorpay_key_secret: str = ""
    razorpay_webhook_secret: str = ""
    razorpay_base_url: str | None = None  # the sandbox: default {public_base_url}/sandbox/razorpay
    payment_timeout_seconds: int = 300  # unpaid UPI orders are cancelled after this

    # Jobs (Celery on Redis): a job taken by a worker that died is handed to another after
    # this many seconds; keep it above the longest job run (gateway/SMS/FCM calls time out
    # at 10 s) and the longest retry countdown (30 s).
    job_visibility_timeout_seconds: int = Field(default=60, ge=1, le=3600)

    # Push
    fcm_credentials_file: str | None = None
    fcm_project_id: str | None = None
    fcm_base_url: str | None = None

    # Storage
    media_base_url: str = "/media"
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_endpoint_url: str | None = None
    s3_public_base_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    # Menu cache: longest a process trusts its menu version without re-reading it (the
    # database is re-read at once whenever a change is announced; this bounds the rest).
    menu_cache_max_age: float = Field(default=1.0, gt=0, le=60)
    # Answer cached menu reads ahead of the request-logging middleware (one summary log
    # line a minute instead of one per hit); see canteen/menu/fastpath.py.
    menu_fast_path: bool = True
    # Place orders by the route's lean handler (canteen/core/lean.py, issue 20); false:
    # through FastAPI's dependency solving, as every other route.
    order_fast_path: bool = True

    # The kitchen portal's build, served at /portal/
    portal_dist: Path = Path(__file__).resolve().parents[3] / "portal" / "dist"

    # Log lines: `console` (short, coloured on a terminal) or `json` (one object a line).
    # Default: console in development, json in production and tests.
    log_format: Literal["console", "json"] | None = None

    # Embedded default niceties
    auto_migrate: bool | None = None  # default: on for the embedded SQLite database
    seed_demo: bool | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        origins = [o.rstrip("/") for o in origins]
        for origin in origins:
            scheme, sep, rest = origin.partition("://")
            # An origin is scheme://host[:port], nothing after: a path or "*" never matches
            # what a browser sends, so say so now rather than fail quietly in the browser.
            if origin != "*" and (
                scheme not in ("http", "https") or not sep or not rest or "/" in rest
            ):
                raise ValueError(
                    f"CANTEEN_CORS_ORIGINS: {origin!r} is not an origin like https://app.example.edu"
                )
        return origins

    @field_validator("celery_broker_url")
    @classmethod
    def _check_broker(cls, url: str | None) -> str | None:
        # The API publishes jobs as a Redis list entry (canteen.core.celery_queue): another
        # broker would fail only at the first job, so refuse it at start-up.
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                f"CANTEEN_CELERY_BROKER_URL: {url.partition('://')[0]!r} is not a Redis URL "
                "(redis://, rediss:// or unix://); the job queue is a Redis list"
            )
        return url

    @model_validator(mode="after")
    def _sandbox_credentials_outside_production(self) -> Settings:
        # The sandbox's public credentials are a convenience for development and tests
        # only; production keeps whatever was configured (empty means "not set").
        if not self.is_production:
            self.razorpay_key_id = self.razorpay_key_id or SANDBOX_RAZORPAY_KEY_ID
            self.razorpay_key_secret = self.razorpay_key_secret or SANDBOX_RAZORPAY_KEY_SECRET
            self.razorpay_webhook_secret = (
                self.razorpay_webhook_secret or SANDBOX_RAZORPAY_WEBHOOK_SECRET
            )
        return self

    @property
    def resolved_log_format(self) -> str:
        if self.log_format:
            return self.log_format
        return "console" if self.env == Env.development else "json"

    @property
    def docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else not self.is_production

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'canteen.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: in-process bus, jobs and key-value store."""
        return not self.redis_url

    @property
    def resolved_job_runner(self) -> str:
        return self.job_runner or ("inprocess" if self.embedded else "celery")

    @property
    def resolved_broker_url(self) -> str | None:
        return self.celery_broker_url or self.redis_url

    @property
    def is_production(self) -> bool:
        return self.env == Env.production


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgresql://` and `sqlite:///` spellings and pick async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


class ConfigurationError(RuntimeError):
    """Raised at start-up when the settings are unsafe for the chosen environment."""


def secret_weakness(value: str, *, min_length: int) -> str | None:
    """Why `value` is not fit to be a secret, or None.

    Length alone lets 36 x "a" through. Besides a minimum length this asks for variety
    (distinct characters, no short repeated pattern) and an entropy estimate from the
    character frequencies, while passing `openssl rand -hex 32`,
    `secrets.token_urlsafe(32)` or a long random passphrase. Provider-issued credentials
    (min_length 1) only have to be set, real-looking and not a known public value.
    """
    if not value:
        return "is not set"
    lowered = value.lower()
    if value in _SANDBOX_VALUES or value == DEV_SECRET_KEY:
        return "is a public development value"
    if any(mark in lowered for mark in _PLACEHOLDER_MARKS):
        return "is a placeholder"
    if len(value) < min_length:
        return f"is shorter than {min_length} characters"
    if len(set(value)) < 10:
        return "has too little variety (fewer than 10 distinct characters)"
    if any(value == (value[:n] * (len(value) // n + 1))[: len(value)] for n in range(1, 17)):
        return "repeats a short pattern"
    counts = Counter(value)
    bits_per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    if bits_per_char * len(value) < 3 * min_length:
        return "is too predictable (low estimated entropy)"
    return None


def check_production(settings: Settings) -> None:
    """Production must not run on development secrets or development providers.

    Every problem is named by its setting, so one failed start lists everything to fix.
    """
    if not settings.is_production:
        return
    problems: list[str] = []

    def secret(name: str, value: str | None, min_length: int = 1) -> None:
        weakness = secret_weakness(value or "", min_length=min_length)
        if weakness is not None:
            problems.append(f"{name} {weakness}")

    def required(name: str, value: object) -> None:
        if not value:
            problems.append(f"{name} is not set")

    secret("CANTEEN_SECRET_KEY", settings.secret_key, min_length=32)
    dev_choices = {
        "CANTEEN_SMS_PROVIDER": (settings.sms_provider, "console"),
        "CANTEEN_PAYMENT_GATEWAY": (settings.payment_gateway, "sandbox"),
        "CANTEEN_PUSH_PROVIDER": (settings.push_provider, "dev"),
    }
    for name, (value, dev_value) in dev_choices.items():
        if value == dev_value:
            problems.append(f"{name}={value} is a development provider")
    if settings.is_sqlite:
        problems.append("CANTEEN_DATABASE_URL must point at PostgreSQL in production")
    if not settings.redis_url:
        problems.append("CANTEEN_REDIS_URL must be set in production")

    # Razorpay: the webhook secret is what makes a "payment.captured" believable, so the
    # sandbox's public one would let anyone confirm unpaid orders.
    secret("CANTEEN_RAZORPAY_KEY_ID", settings.razorpay_key_id)
    secret("CANTEEN_RAZORPAY_KEY_SECRET", settings.razorpay_key_secret)
    secret("CANTEEN_RAZORPAY_WEBHOOK_SECRET", settings.razorpay_webhook_secret, min_length=16)

    # The chosen providers' credentials, checked now rather than at the first SMS or push.
    if settings.sms_provider == "twilio":
        required("CANTEEN_TWILIO_ACCOUNT_SID", settings.twilio_account_sid)
        secret("CANTEEN_TWILIO_AUTH_TOKEN", settings.twilio_auth_token)
        required(
            "CANTEEN_TWILIO_FROM_NUMBER or CANTEEN_TWILIO_MESSAGING_SERVICE_SID",
            settings.twilio_from_number or settings.twilio_messaging_service_sid,
        )
    elif settings.sms_provider == "msg91":
        secret("CANTEEN_MSG91_AUTH_KEY", settings.msg91_auth_key)
        required("CANTEEN_MSG91_TEMPLATE_ID", settings.msg91_template_id)
    if settings.push_provider == "fcm":
        if not settings.fcm_credentials_file:
            problems.append("CANTEEN_FCM_CREDENTIALS_FILE is not set")
        elif not Path(settings.fcm_credentials_file).is_file():
            problems.append("CANTEEN_FCM_CREDENTIALS_FILE does not name a readable file")
    if settings.storage == "s3":
        required("CANTEEN_S3_BUCKET", settings.s3_bucket)
        required("CANTEEN_S3_REGION", settings.s3_region)
        # Neither key means the AWS default credential chain (an instance role); one
        # without the other, or a placeholder, is a mistake.
        if settings.s3_access_key_id or settings.s3_secret_access_key:
            required("CANTEEN_S3_ACCESS_KEY_ID", settings.s3_access_key_id)
            secret("CANTEEN_S3_SECRET_ACCESS_KEY", settings.s3_secret_access_key)
    if settings.metrics_token is not None:
        secret("CANTEEN_METRICS_TOKEN", settings.metrics_token, min_length=16)
    if settings.clock_offset_seconds:
        problems.append("CANTEEN_CLOCK_OFFSET_SECONDS shifts the clock: tests only")
    if "*" in settings.cors_origins:
        problems.append("CANTEEN_CORS_ORIGINS must list origins, not *, in production")
    if problems:
        raise ConfigurationError("Refusing to start in production: " + "; ".join(problems))


@lru_cache
def get_settings() -> Settings:
    return Settings()
