"""Test harness: one suite, two backends.

CANTEEN_TEST_BACKEND=embedded  SQLite file, in-process key-value store and jobs
CANTEEN_TEST_BACKEND=postgres  PostgreSQL + Redis + a real Celery worker process

Both databases are built by the Alembic migrations. Every test starts from empty
tables and an empty Redis database.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from canteen.app import create_app
from canteen.bootstrap import build_container
from canteen.core.clock import ManualClock
from canteen.core.container import Container
from canteen.migrate import upgrade
from canteen.models import Base
from canteen.settings import Settings

BACKEND = os.environ.get("CANTEEN_TEST_BACKEND", "embedded")
PG_SERVER = os.environ.get("CANTEEN_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_BASE = os.environ.get("CANTEEN_TEST_REDIS", "redis://127.0.0.1:6379")
TEST_SECRET = "test-secret-key-0123456789abcdef0123456789abcdef"
PG_DB = f"canteen_test_{os.getpid()}"
# Redis databases 0-9 for backend runs, chosen by process id so two runs on one machine
# rarely share a broker; the client suite uses 12 and 13, benchmarks 10 and 11.
REDIS_KV_DB = (os.getpid() % 5) * 2
REDIS_BROKER_DB = REDIS_KV_DB + 1


def pytest_report_header() -> str:
    return f"canteen backend under test: {BACKEND}"


def _pg_admin(sql: str) -> None:
    engine = create_engine(
        f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("canteen-data")


@pytest.fixture(scope="session")
def razorpay_sandbox() -> Iterator[Any]:
    """The Razorpay-compatible sandbox on its own port, reached through the official SDK.
    Tests that need webhooks point `razorpay_sandbox.sandbox.webhook_url` at a live server."""
    from canteen_sandbox import SandboxServer

    server = SandboxServer(webhook_retry_delay=0.2, refund_processing_delay=0.1).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_env(data_dir: Path, razorpay_sandbox: Any) -> dict[str, str]:
    """The CANTEEN_* environment of this run, shared with the worker and subprocesses."""
    env = {
        "CANTEEN_ENV": "test",
        "CANTEEN_SECRET_KEY": TEST_SECRET,
        "CANTEEN_DATA_DIR": str(data_dir),
        "CANTEEN_RAZORPAY_BASE_URL": razorpay_sandbox.base_url,
    }
    if BACKEND == "postgres":
        env["CANTEEN_DATABASE_URL"] = f"{PG_SERVER}/{PG_DB}"
        env["CANTEEN_REDIS_URL"] = f"{REDIS_BASE}/{REDIS_KV_DB}"
        # The broker lives in its own Redis database: per-test flushes must not eat tasks.
        env["CANTEEN_CELERY_BROKER_URL"] = f"{REDIS_BASE}/{REDIS_BROKER_DB}"
    elif BACKEND != "embedded":
        raise pytest.UsageError(f"unknown CANTEEN_TEST_BACKEND={BACKEND!r}")
    return env


def make_settings(base: dict[str, str], **overrides: Any) -> Settings:
    values = {k.removeprefix("CANTEEN_").lower(): v for k, v in base.items()}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(base_env: dict[str, str]) -> Iterator[Settings]:
    s = make_settings(base_env)
    if BACKEND == "postgres":
        _pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{PG_DB}"')
    upgrade(s.resolved_database_url)
    yield s
    if BACKEND == "postgres":
        _pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


@pytest.fixture(scope="session")
def celery_worker(
    base_env: dict[str, str], settings: Settings
) -> Iterator[subprocess.Popen[bytes] | None]:
    """A real Celery worker process on the PostgreSQL + Redis run."""
    if BACKEND != "postgres":
        yield None
        return
    import redis

    redis.Redis.from_url(settings.resolved_broker_url or "").flushdb()
    log_path = Path(settings.data_dir) / "celery-worker.log"
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "canteen.worker",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        env={**os.environ, **base_env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # Tasks would wait in the queue, but a test waiting for an SMS gives up after 15 s:
    # start the suite once the worker says it is ready (slow on a busy 2-core machine).
    deadline = time.monotonic() + 120
    while b"ready." not in log_path.read_bytes():
        if proc.poll() is not None:
            raise RuntimeError("the Celery worker exited:\n" + log_path.read_text()[-3000:])
        if time.monotonic() > deadline:
            raise RuntimeError("the Celery worker did not become ready in 120 s")
        time.sleep(0.2)
    yield proc
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _reset_database(settings: Settings) -> None:
    url = settings.resolved_database_url.replace("+asyncpg", "+psycopg").replace("+aiosqlite", "")
    engine = create_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    # The Celery worker may still be finishing the previous test's job (a push, a refund):
    # TRUNCATE can then deadlock with it, so try again rather than fail the next test.
    for attempt in range(10):
        try:
            with engine.begin() as conn:
                if BACKEND == "postgres":
                    conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                    conn.execute(
                        text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
                    )
                else:
                    for table in tables:
                        conn.execute(text(f'DELETE FROM "{table}"'))
            break
        except OperationalError:
            if attempt == 9:
                raise
            time.sleep(0.5)
    engine.dispose()


@pytest.fixture
def clean(settings: Settings) -> None:
    _reset_database(settings)
    if settings.redis_url:
        import redis

        redis.Redis.from_url(settings.redis_url).flushdb()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def container(
    settings: Settings, clean: None, clock: ManualClock, celery_worker: Any
) -> AsyncIterator[Container]:
    c = build_container(settings, clock=clock)
    await c.start()
    yield c
    await c.close()


@pytest_asyncio.fixture
async def app(container: Container) -> AsyncIterator[Any]:
    application = create_app(container.settings, container=container)
    yield application


@pytest_asyncio.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
        yield ac


# ---- helpers used across the suite -------------------------------------------------

API = "/api/v1"
OTP_RE = re.compile(r"\b(\d{6})\b")


async def wait_for_otp(
    client: httpx.AsyncClient, container: Container, phone: str, after: int = 0
) -> str:
    """The code from the dev outbox: in-process jobs are drained, Celery is polled."""
    await container.jobs.drain()
    deadline = time.monotonic() + 15
    while True:
        r = await client.get(f"{API}/dev/outbox", params={"channel": "sms", "to": phone})
        messages = r.json()["data"]
        if len(messages) > after:
            match = OTP_RE.search(messages[0]["body"])
            assert match, messages[0]
            return match.group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"no SMS reached {phone}")
        await asyncio.sleep(0.05)


async def login_customer(
    client: httpx.AsyncClient, container: Container, phone: str = "+919876543210"
) -> dict[str, Any]:
    r = await client.post(f"{API}/auth/request-otp", json={"phone": phone})
    assert r.status_code == 200, r.text
    code = await wait_for_otp(client, container, phone)
    r = await client.post(f"{API}/auth/verify-otp", json={"phone": phone, "otp": code})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def make_staff(
    container: Container, role: str, phone: str, password: str = "staff-password-1"
) -> None:
    from canteen.core.security import hash_password_async
    from canteen.users.models import User

    async with container.sessionmaker() as s, s.begin():
        s.add(
            User(
                phone=phone,
                name=f"{role} user",
                role=role,
                password_hash=await hash_password_async(password),
            )
        )


async def login_staff(
    client: httpx.AsyncClient,
    container: Container,
    role: str = "admin",
    phone: str = "+919000000101",
    password: str = "staff-password-1",
) -> dict[str, Any]:
    await make_staff(container, role, phone, password)
    r = await client.post(f"{API}/auth/staff-login", json={"phone": phone, "password": password})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    assert err["code"] == code, body
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["details"], list)
    return err


async def count_rows(container: Container, model: Any) -> int:
    from sqlalchemy import func, select

    async with container.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)
