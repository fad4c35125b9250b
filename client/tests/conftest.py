"""The SDK against the real backend, on the backend chosen by CANTEEN_TEST_BACKEND.

The backend stack is the test kit's pytest plugin (canteen_testkit.plugin, the same
fixtures as the backend suite: per-test `clean`, `clock`, `container`, `app`). This
suite keeps resources of its own so both suites can run in one process or side by side:
its own sandbox and data directory, the database `canteen_client_test_<pid>`, Redis
databases 13 (data) and 12 (broker), and its own Celery worker on PostgreSQL; the
fixtures below override `settings` and `celery_worker` with them.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from canteen.settings import Settings
from canteen_client import CanteenClient
from canteen_testkit import stack
from canteen_testkit.plugin import start_sandbox

from .sdk_harness import RecordingSleep, Wire, make_api


def pytest_report_header() -> str:
    return f"canteen-client SDK tests against backend: {stack.BACKEND}"


@pytest.fixture(scope="session")
def sdk_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("canteen-client-data")


@pytest.fixture(scope="session")
def sdk_sandbox() -> Iterator[Any]:
    """The Razorpay-compatible sandbox on its own port (UPI orders are created there)."""
    server = start_sandbox()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sdk_env(sdk_data_dir: Path, sdk_sandbox: Any) -> dict[str, str]:
    try:
        return stack.stack_env(stack.sdk_plan(), sdk_data_dir, sdk_sandbox.base_url)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session")
def settings(sdk_env: dict[str, str]) -> Iterator[Settings]:
    with stack.migrated(sdk_env, stack.sdk_plan()) as s:
        yield s


@pytest.fixture(scope="session")
def sdk_celery_worker(
    sdk_env: dict[str, str], settings: Settings
) -> Iterator[subprocess.Popen[bytes] | None]:
    """A real Celery worker on the PostgreSQL run (it sends the OTP SMS)."""
    with stack.celery_worker(sdk_env, settings) as proc:
        yield proc


@pytest.fixture(scope="session")
def celery_worker(sdk_celery_worker: Any) -> Any:
    """The plugin's `container` waits for this suite's worker, not the backend suite's."""
    return sdk_celery_worker


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
