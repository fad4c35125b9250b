"""Typed settings: every knob is a `CANTEEN_*` environment variable.

The embedded default needs no configuration at all; production must name real
providers and a real secret, and refuses to start otherwise (see `check_production`).
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdef"


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
    celery_broker_url: str | None = None  # default: REDIS_URL
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
    cors_origins: list[str] = Field(default_factory=list)

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
    razorpay_key_id: str = "rzp_test_canteensandbox"
    razorpay_key_secret: str = "sandbox_key_secret_change_me"
    razorpay_webhook_secret: str = "sandbox_webhook_secret_change_me"
    razorpay_base_url: str | None = None  # the sandbox: default {public_base_url}/sandbox/razorpay
    payment_timeout_seconds: int = 300  # unpaid UPI orders are cancelled after this

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

    # The kitchen portal's build, served at /portal/
    portal_dist: Path = Path(__file__).resolve().parents[3] / "portal" / "dist"

    # Embedded default niceties
    auto_migrate: bool | None = None  # default: on for the embedded SQLite database
    seed_demo: bool | None = None

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


def check_production(settings: Settings) -> None:
    """Production must not run on development secrets or development providers."""
    if not settings.is_production:
        return
    problems: list[str] = []
    if settings.secret_key == DEV_SECRET_KEY or len(settings.secret_key) < 32:
        problems.append(
            "CANTEEN_SECRET_KEY is the development secret or shorter than 32 characters"
        )
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
    if settings.razorpay_key_secret.startswith("sandbox_"):
        problems.append("CANTEEN_RAZORPAY_KEY_SECRET is the sandbox secret")
    if problems:
        raise ConfigurationError("Refusing to start in production: " + "; ".join(problems))


@lru_cache
def get_settings() -> Settings:
    return Settings()
