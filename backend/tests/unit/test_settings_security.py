"""Production refuses development and placeholder secrets, by name (issue 13, point 1)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from canteen.settings import (
    DEV_SECRET_KEY,
    SANDBOX_RAZORPAY_KEY_ID,
    SANDBOX_RAZORPAY_KEY_SECRET,
    SANDBOX_RAZORPAY_WEBHOOK_SECRET,
    ConfigurationError,
    Settings,
    check_production,
    secret_weakness,
)


def real_production(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Settings a real deployment would have: every provider chosen with its credentials."""
    credentials = tmp_path / "fcm-service-account.json"
    credentials.write_text("{}")
    values: dict[str, Any] = {
        "env": "production",
        "secret_key": "kP9w2Zq7Lm4xR8vT1nB6cY3hJ5sD0fGa",
        "database_url": "postgresql://canteen@db/canteen",
        "redis_url": "redis://cache:6379/0",
        "sms_provider": "twilio",
        "twilio_account_sid": "AC5f1e3d9c7b2a4e6f8d0c1b3a5e7f9d2c",
        "twilio_auth_token": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
        "twilio_from_number": "+15005550006",
        "payment_gateway": "razorpay",
        "razorpay_key_id": "rzp_live_Q1w2E3r4T5y6U7",
        "razorpay_key_secret": "Zx8Cv7Bn6Mm5Ll4Kk3Jj2Hh",
        "razorpay_webhook_secret": "whsec-4f9Tq2Lz8Rk1Vn6Yp3",
        "push_provider": "fcm",
        "fcm_credentials_file": str(credentials),
    }
    values.update(overrides)
    return values


def refusal(values: dict[str, Any]) -> str:
    with pytest.raises(ConfigurationError) as exc:
        check_production(Settings(**values))
    return str(exc.value)


def test_real_production_settings_start(tmp_path):
    check_production(Settings(**real_production(tmp_path)))


def test_production_has_no_razorpay_defaults_and_refuses_to_start_without_them(tmp_path):
    values = real_production(tmp_path)
    for name in ("razorpay_key_id", "razorpay_key_secret", "razorpay_webhook_secret"):
        values.pop(name)
    s = Settings(**values)
    # Nothing filled in: the sandbox's public secret never reaches a production process.
    assert (s.razorpay_key_id, s.razorpay_key_secret, s.razorpay_webhook_secret) == ("", "", "")
    message = refusal(values)
    for name in (
        "CANTEEN_RAZORPAY_KEY_ID",
        "CANTEEN_RAZORPAY_KEY_SECRET",
        "CANTEEN_RAZORPAY_WEBHOOK_SECRET",
    ):
        assert f"{name} is not set" in message


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("razorpay_webhook_secret", SANDBOX_RAZORPAY_WEBHOOK_SECRET, "CANTEEN_RAZORPAY_WEBHOOK_SECRET"),
        ("razorpay_webhook_secret", "short-Secret1", "CANTEEN_RAZORPAY_WEBHOOK_SECRET"),
        ("razorpay_key_secret", SANDBOX_RAZORPAY_KEY_SECRET, "CANTEEN_RAZORPAY_KEY_SECRET"),
        ("razorpay_key_id", SANDBOX_RAZORPAY_KEY_ID, "CANTEEN_RAZORPAY_KEY_ID"),
        ("twilio_auth_token", None, "CANTEEN_TWILIO_AUTH_TOKEN"),
        ("twilio_auth_token", "your-twilio-token-changeme", "CANTEEN_TWILIO_AUTH_TOKEN"),
        ("twilio_account_sid", None, "CANTEEN_TWILIO_ACCOUNT_SID"),
        ("twilio_from_number", None, "CANTEEN_TWILIO_FROM_NUMBER"),
        ("fcm_credentials_file", None, "CANTEEN_FCM_CREDENTIALS_FILE"),
        ("fcm_credentials_file", "/nonexistent/fcm.json", "CANTEEN_FCM_CREDENTIALS_FILE"),
        ("cors_origins", ["*"], "CANTEEN_CORS_ORIGINS"),
    ],
)  # fmt: skip
def test_each_secret_like_setting_is_checked_by_name(tmp_path, field, value, named):
    message = refusal(real_production(tmp_path, **{field: value}))
    assert named in message
    assert message.count(";") == 0, message  # only the setting that is wrong is named


def test_msg91_and_s3_credentials_are_checked_when_chosen(tmp_path):
    message = refusal(
        real_production(
            tmp_path,
            sms_provider="msg91",
            msg91_auth_key="",
            storage="s3",
            s3_bucket="menu-photos",
            s3_access_key_id="AKIAEXAMPLE123",
        )
    )
    assert "CANTEEN_MSG91_AUTH_KEY is not set" in message
    assert "CANTEEN_MSG91_TEMPLATE_ID is not set" in message
    assert "CANTEEN_S3_REGION is not set" in message
    assert "CANTEEN_S3_SECRET_ACCESS_KEY is not set" in message
    # No keys at all is the AWS default credential chain (an instance role): fine.
    check_production(
        Settings(**real_production(tmp_path, storage="s3", s3_bucket="b", s3_region="ap-south-1"))
    )


@pytest.mark.parametrize(
    "weak",
    [
        "a" * 36,
        "p" * 48,
        "0123456789" * 4,  # ten distinct characters, but a cycle
        "abcdefghijkl" * 3,
        DEV_SECRET_KEY,
        "replace-this-with-a-real-key-changeme-0123456789",
        "Xy7#kL2q",  # varied but short
    ],
)
def test_jwt_secret_is_judged_by_strength_not_length(tmp_path, weak):
    message = refusal(real_production(tmp_path, secret_key=weak))
    assert "CANTEEN_SECRET_KEY" in message


@pytest.mark.parametrize(
    "strong",
    [
        secrets.token_hex(16),  # 32 hex characters: 128 bits
        secrets.token_urlsafe(32),
        "correct horse battery staple canteen",
    ],
)
def test_strong_jwt_secrets_pass(strong):
    assert secret_weakness(strong, min_length=32) is None


def test_sandbox_credentials_only_in_development_and_tests():
    for env in ("development", "test"):
        s = Settings(env=env)
        assert s.razorpay_webhook_secret == SANDBOX_RAZORPAY_WEBHOOK_SECRET
        assert s.razorpay_key_secret == SANDBOX_RAZORPAY_KEY_SECRET
    # An explicitly configured value always wins.
    assert Settings(env="test", razorpay_webhook_secret="mine").razorpay_webhook_secret == "mine"


def test_cors_origins_from_the_environment(monkeypatch):
    monkeypatch.setenv("CANTEEN_CORS_ORIGINS", "https://order.campus.edu, http://localhost:5173")
    assert Settings().cors_origins == ["https://order.campus.edu", "http://localhost:5173"]
    monkeypatch.setenv("CANTEEN_CORS_ORIGINS", '["https://order.campus.edu/"]')
    assert Settings().cors_origins == ["https://order.campus.edu"]
    monkeypatch.setenv("CANTEEN_CORS_ORIGINS", "https://order.campus.edu/app")
    with pytest.raises(ValueError, match="not an origin"):
        Settings()


def test_the_job_broker_must_be_redis(monkeypatch):
    """The API writes jobs straight into the broker's Redis list (canteen.core.celery_queue)."""
    for url in ("redis://redis:6379/1", "rediss://redis:6380/1", "unix:///run/redis.sock?db=1"):
        monkeypatch.setenv("CANTEEN_CELERY_BROKER_URL", url)
        assert Settings().resolved_broker_url == url
    monkeypatch.setenv("CANTEEN_CELERY_BROKER_URL", "amqp://rabbit//")
    with pytest.raises(ValueError, match="'amqp' is not a Redis URL"):
        Settings()


def test_api_docs_default_on_except_in_production(tmp_path):
    assert Settings(env="development").docs_enabled
    assert Settings(env="test").docs_enabled
    assert not Settings(**real_production(tmp_path)).docs_enabled
    assert Settings(**real_production(tmp_path, api_docs=True)).docs_enabled


def test_production_refuses_a_shifted_clock(tmp_path):
    message = refusal(real_production(tmp_path, clock_offset_seconds=3600))
    assert "CANTEEN_CLOCK_OFFSET_SECONDS shifts the clock: tests only" in message


def test_a_shifted_process_stamps_its_rows_by_its_clock(tmp_path):
    """The shift reaches every container built from the settings (the worker's and a
    server's too) and the rows' own stamps (`utcnow`), not only the test's clock."""
    from datetime import UTC, datetime

    from canteen.bootstrap import build_container
    from canteen.core.clock import process_now, shift_process_clock
    from canteen.core.db import utcnow
    from canteen_testkit.stack import clock_offset

    try:
        container = build_container(Settings(data_dir=tmp_path, clock_offset_seconds=-7200))
        for now in (container.clock.now(), utcnow(), process_now()):
            assert abs((datetime.now(UTC) - now).total_seconds() - 7200) < 5
    finally:
        shift_process_clock(clock_offset())  # the run's own
