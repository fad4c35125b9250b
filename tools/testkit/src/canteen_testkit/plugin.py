"""The workspace's pytest plugin (entry point `pytest11`: canteen): the backend stack as
fixtures, for every suite that tests against the real backend.

Fixtures (none runs unless a test asks for it):

- session: `razorpay_sandbox` (the sandbox on its own port), `data_dir`, `base_env` (the
  run's CANTEEN_* environment), `settings` (migrated database), `celery_worker` (a real
  worker on PostgreSQL + Redis, None on the embedded backend);
- per test: `clean` (empty tables and Redis), `clock` (a ManualClock), `container`,
  `app`, `client` (httpx on the app in process), `private_redis` (a redis-server of the
  test's own).

A suite with resources of its own (the SDK suite) overrides `base_env`'s inputs by
defining `settings` and `celery_worker` in its conftest; the per-test fixtures follow.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.register_assert_rewrite(
    "canteen_testkit.helpers", "canteen_testkit.redis_server", "canteen_testkit.servers"
)

import httpx  # noqa: E402
import pytest_asyncio  # noqa: E402

from canteen_testkit import stack  # noqa: E402
from canteen_testkit.redis_server import PrivateRedis  # noqa: E402

if TYPE_CHECKING:
    import subprocess

    from canteen.core.clock import ManualClock
    from canteen.core.container import Container
    from canteen.settings import Settings
    from canteen_sandbox import SandboxServer


def start_sandbox() -> SandboxServer:
    """The Razorpay-compatible sandbox on its own port, reached through the official SDK,
    with quick webhook retries and refunds."""
    from canteen_sandbox import SandboxServer

    return SandboxServer(webhook_retry_delay=0.2, refund_processing_delay=0.1).start()


@pytest.fixture(scope="session")
def razorpay_sandbox() -> Iterator[SandboxServer]:
    """Tests that need webhooks point `razorpay_sandbox.sandbox.webhook_url` at a live server."""
    server = start_sandbox()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("canteen-data")


@pytest.fixture(scope="session")
def base_env(data_dir: Path, razorpay_sandbox: SandboxServer) -> dict[str, str]:
    """The CANTEEN_* environment of this run, shared with the worker and subprocesses."""
    try:
        return stack.stack_env(stack.backend_plan(), data_dir, razorpay_sandbox.base_url)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session")
def settings(base_env: dict[str, str]) -> Iterator[Settings]:
    with stack.migrated(base_env, stack.backend_plan()) as s:
        yield s


@pytest.fixture(scope="session")
def celery_worker(
    base_env: dict[str, str], settings: Settings
) -> Iterator[subprocess.Popen[bytes] | None]:
    """A real Celery worker process on the PostgreSQL + Redis run."""
    with stack.celery_worker(base_env, settings) as proc:
        yield proc


@pytest.fixture
def clean(settings: Settings) -> None:
    stack.reset(settings)


@pytest.fixture
def clock() -> ManualClock:
    """The server's clock (advance it to expire tokens and slots). It starts at the run's
    canteen time (stack.LOCAL_TIME), as the worker's and the subprocesses' do."""
    from canteen.core.clock import ManualClock

    return ManualClock()


@pytest_asyncio.fixture
async def container(
    settings: Settings, clean: None, clock: ManualClock, celery_worker: Any
) -> AsyncIterator[Container]:
    from canteen.bootstrap import build_container

    c = build_container(settings, clock=clock)
    await c.start()
    yield c
    await c.close()


@pytest_asyncio.fixture
async def app(container: Container) -> Any:
    from canteen.app import create_app

    return create_app(container.settings, container=container)


@pytest_asyncio.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
        yield ac


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()
