"""Production safety checks, the dev outbox's absence in production, and the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from canteen.app import create_app
from canteen.bootstrap import build_container
from canteen.settings import ConfigurationError, Settings, check_production
from conftest import API, assert_error

GOOD_PROD = {
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
    # Production only checks that the file is there; FCM reads it at the first push.
    "fcm_credentials_file": __file__,
}


def test_production_accepts_real_settings():
    check_production(Settings(**GOOD_PROD))


@pytest.mark.parametrize(
    ("override", "named"),
    [
        (
            {"secret_key": "dev-insecure-secret-key-change-me-0123456789abcdef"},
            "CANTEEN_SECRET_KEY",
        ),
        ({"secret_key": "short"}, "CANTEEN_SECRET_KEY"),
        ({"sms_provider": "console"}, "CANTEEN_SMS_PROVIDER"),
        ({"payment_gateway": "sandbox"}, "CANTEEN_PAYMENT_GATEWAY"),
        ({"push_provider": "dev"}, "CANTEEN_PUSH_PROVIDER"),
        ({"database_url": None}, "CANTEEN_DATABASE_URL"),
        ({"redis_url": None}, "CANTEEN_REDIS_URL"),
    ],
)
def test_production_refuses_development_settings(override, named):
    with pytest.raises(ConfigurationError) as exc:
        check_production(Settings(**{**GOOD_PROD, **override}))
    assert named in str(exc.value)
    with pytest.raises(ConfigurationError):
        create_app(Settings(**{**GOOD_PROD, **override}))


def test_cli_refuses_to_start_production_with_dev_settings(tmp_path):
    env = {**os.environ, "CANTEEN_ENV": "production", "CANTEEN_DATA_DIR": str(tmp_path)}
    env.pop("CANTEEN_SECRET_KEY", None)
    r = subprocess.run(
        [sys.executable, "-m", "canteen.cli", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    assert "CANTEEN_SECRET_KEY" in r.stderr and "CANTEEN_SMS_PROVIDER" in r.stderr


def test_a_celery_worker_started_directly_refuses_production_with_dev_settings(tmp_path):
    """`celery -A canteen.worker worker` loads the app without `canteen worker`'s check."""
    env = {
        **os.environ,
        "CANTEEN_ENV": "production",
        "CANTEEN_DATA_DIR": str(tmp_path),
        "CANTEEN_REDIS_URL": "redis://127.0.0.1:1/0",  # never reached: it refuses first
    }
    env.pop("CANTEEN_SECRET_KEY", None)
    r = subprocess.run(
        [sys.executable, "-c", "import canteen.worker as w; w.app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    assert "Refusing to start in production" in r.stderr
    assert "CANTEEN_SECRET_KEY" in r.stderr and "CANTEEN_RAZORPAY_WEBHOOK_SECRET" in r.stderr


async def test_dev_outbox_is_404_in_production():
    # Route lookup fails before any database or Redis is touched, so unreachable hosts are fine.
    s = Settings(**GOOD_PROD)
    c = build_container(s)
    app = create_app(s, container=c)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as ac:
        r = await ac.get(f"{API}/dev/outbox")
    assert_error(r, 404, "NOT_FOUND")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "canteen.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_migrate_seed_and_create_admin(tmp_path):
    env = {**os.environ, "CANTEEN_DATA_DIR": str(tmp_path), "CANTEEN_ENV": "development"}
    for key in ("CANTEEN_DATABASE_URL", "CANTEEN_REDIS_URL"):
        env.pop(key, None)
    r = _cli(env, "migrate")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "canteen.sqlite3").exists()
    r = _cli(env, "create-admin", "--phone", "98765 11111", "--password", "short", "--name", "A")
    assert r.returncode != 0 and "8 characters" in r.stderr
    r = _cli(env, "create-admin", "--phone", "nope", "--password", "long-enough-1", "--name", "A")
    assert r.returncode != 0 and "not a valid phone number" in r.stderr
    r = _cli(
        env,
        "create-admin",
        "--phone",
        "98765 11111",
        "--password",
        "long-enough-1",
        "--name",
        "Asha",
    )
    assert r.returncode == 0, r.stderr
    assert "+919876511111" in r.stdout
    r = _cli(env, "seed-demo")
    assert r.returncode == 0, r.stderr
    r = _cli(env, "seed-demo")  # idempotent
    assert r.returncode == 0, r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_until_ready(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """`canteen serve` on a free port, once /readyz answers 200 (or the test fails)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "canteen.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() >= deadline:
            proc.kill()
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"server did not become ready:\n{out}")
        time.sleep(0.2)


def test_serve_on_an_empty_embedded_database_migrates_seeds_and_logs_in(tmp_path):
    """The README's first command, end to end: a fresh data dir, OTP login from the outbox."""
    env = {**os.environ, "CANTEEN_DATA_DIR": str(tmp_path), "CANTEEN_ENV": "development"}
    for key in ("CANTEEN_DATABASE_URL", "CANTEEN_REDIS_URL", "CANTEEN_CELERY_BROKER_URL"):
        env.pop(key, None)
    proc, base = _serve_until_ready(env)
    try:
        r = httpx.post(
            f"{base}{API}/auth/staff-login",
            json={"phone": "+919000000001", "password": "canteen-admin"},
        )
        assert r.status_code == 200 and r.json()["data"]["user"]["role"] == "admin"
        r = httpx.post(f"{base}{API}/auth/request-otp", json={"phone": "+919876543210"})
        assert r.status_code == 200
        code = None
        for _ in range(50):
            msgs = httpx.get(f"{base}{API}/dev/outbox", params={"to": "+919876543210"}).json()
            if msgs["data"]:
                code = msgs["data"][0]["body"][:6]
                break
            time.sleep(0.1)
        assert code and code.isdigit()
        r = httpx.post(f"{base}{API}/auth/verify-otp", json={"phone": "+919876543210", "otp": code})
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(15)


def test_serve_seeds_a_migrated_database_without_migrating_again(tmp_path):
    """`canteen serve` as on PostgreSQL: `canteen migrate` ran before (a deployment step),
    serve seeds the empty database in a fresh process that has loaded no model yet. The
    seed's first flush sorts every table by its foreign keys (menu_items -> stations), so
    every model must be mapped by then; before the fix the server died at start."""
    env = {**os.environ, "CANTEEN_DATA_DIR": str(tmp_path), "CANTEEN_ENV": "development"}
    for key in ("CANTEEN_DATABASE_URL", "CANTEEN_REDIS_URL", "CANTEEN_CELERY_BROKER_URL"):
        env.pop(key, None)
    r = _cli(env, "migrate")
    assert r.returncode == 0, r.stderr
    env.update({"CANTEEN_AUTO_MIGRATE": "false", "CANTEEN_SEED_DEMO": "true"})
    proc, base = _serve_until_ready(env)
    try:
        items = httpx.get(f"{base}{API}/menu/items").json()["data"]
        assert len(items) >= 50  # the demo canteen was seeded
    finally:
        proc.terminate()
        proc.wait(15)
