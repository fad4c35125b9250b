"""The SDK against the real backend, on the backend chosen by CANTEEN_TEST_BACKEND.

The fixtures mirror backend/tests/conftest.py (same settings, migrations, per-test reset
and, on PostgreSQL, a real Celery worker) and reuse its helpers, but with resources of
their own so both suites can run in one process or side by side: the database is
`canteen_client_test_<pid>`, Redis databases 13 (data) and 12 (broker).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from canteen.app import create_app
from canteen.bootstrap import build_container
from canteen.core.clock import ManualClock
from canteen.core.container import Container
from canteen.migrate import upgrade
from canteen.settings import Settings
from canteen_client import CanteenClient

from .sdk_harness import RecordingSleep, Wire, backend, make_api

BACKEND = backend.BACKEND
PG_SERVER = backend.PG_SERVER
REDIS_BASE = backend.REDIS_BASE
PG_DB = f"canteen_client_test_{os.getpid()}"


def pytest_report_header() -> str:
    return f"canteen-client SDK tests against backend: {BACKEND}"


@pytest.fixture(scope="session")
def sdk_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("canteen-client-data")


@pytest.fixture(scope="session")
def sdk_sandbox() -> Iterator[Any]:
    """The Razorpay-compatible sandbox on its own port (UPI orders are created there)."""
    from canteen_sandbox import SandboxServer

    server = SandboxServer(webhook_retry_delay=0.2, refund_processing_delay=0.1).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sdk_env(sdk_data_dir: Path, sdk_sandbox: Any) -> dict[str, str]:
    env = {
        "CANTEEN_ENV": "test",
        "CANTEEN_SECRET_KEY": backend.TEST_SECRET,
        "CANTEEN_DATA_DIR": str(sdk_data_dir),
        "CANTEEN_RAZORPAY_BASE_URL": sdk_sandbox.base_url,
    }
    if BACKEND == "postgres":
        env["CANTEEN_DATABASE_URL"] = f"{PG_SERVER}/{PG_DB}"
        env["CANTEEN_REDIS_URL"] = f"{REDIS_BASE}/13"
        env["CANTEEN_CELERY_BROKER_URL"] = f"{REDIS_BASE}/12"
    elif BACKEND != "embedded":
        raise pytest.UsageError(f"unknown CANTEEN_TEST_BACKEND={BACKEND!r}")
    return env


@pytest.fixture(scope="session")
def settings(sdk_env: dict[str, str]) -> Iterator[Settings]:
    s = backend.make_settings(sdk_env)
    if BACKEND == "postgres":
        backend._pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        backend._pg_admin(f'CREATE DATABASE "{PG_DB}"')
    upgrade(s.resolved_database_url)
    yield s
    if BACKEND == "postgres":
        backend._pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sdk_celery_worker(
    sdk_env: dict[str, str], settings: Settings
) -> Iterator[subprocess.Popen[bytes] | None]:
    """A real Celery worker on the PostgreSQL run (it sends the OTP SMS)."""
    if BACKEND != "postgres":
        yield None
        return
    import redis

    redis.Redis.from_url(settings.resolved_broker_url or "").flushdb()
    log = open(Path(settings.data_dir) / "celery-worker.log", "wb")  # noqa: SIM115
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
        env={**os.environ, **sdk_env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _wait_until_ready(proc, Path(settings.data_dir) / "celery-worker.log")
    yield proc
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _wait_until_ready(proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 90) -> None:
    """Tasks queue up until the worker is ready, but a test waiting for an SMS gives up
    after 15 s: on a busy machine the worker can take longer than that to start."""
    deadline = time.monotonic() + timeout
    while b"ready." not in log_path.read_bytes():
        if proc.poll() is not None:
            raise RuntimeError(f"the Celery worker exited; see {log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker did not start in {timeout:.0f} s")
        time.sleep(0.1)


@pytest.fixture
def clean(settings: Settings) -> None:
    backend._reset_database(settings)
    if settings.redis_url:
        import redis

        redis.Redis.from_url(settings.redis_url).flushdb()


@pytest.fixture
def clock() -> ManualClock:
    """The server's clock (advance it to expire tokens)."""
    return ManualClock()


@pytest_asyncio.fixture
async def container(
    settings: Settings, clean: None, clock: ManualClock, sdk_celery_worker: Any
) -> AsyncIterator[Container]:
    c = build_container(settings, clock=clock)
    await c.start()
    yield c
    await c.close()


@pytest_asyncio.fixture
async def app(container: Container) -> Any:
    return create_app(container.settings, container=container)


@pytest_asyncio.fixture
async def raw(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A plain httpx client on the app (set-up and checks the SDK is not under test for)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
        yield ac


@pytest_asyncio.fixture
async def sdk(app: Any) -> AsyncIterator[tuple[CanteenClient, Wire]]:
    """The SDK on the app in-process, with its wire recorded and its sleeps instant."""
    api, wire = make_api(app)
    async with api:
        yield api, wire


@pytest.fixture
def api(sdk: tuple[CanteenClient, Wire]) -> CanteenClient:
    return sdk[0]


@pytest.fixture
def wire(sdk: tuple[CanteenClient, Wire]) -> Wire:
    return sdk[1]


@pytest.fixture
def slept(api: CanteenClient) -> RecordingSleep:
    assert isinstance(api.sleep, RecordingSleep)
    return api.sleep
