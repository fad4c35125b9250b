"""Fixtures for the consumer app's tests.

The backend is the real one, started as a subprocess (`canteen serve`, embedded default)
once per test session in a temporary data directory; the app's state and the Flet app
talk to it over HTTP and WebSocket exactly as they do in production.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from app_harness import CLOCK_OFFSET, Api, AppProcess, Backend, DemoMenu
from app_support import new_phone
from canteen_app.state.app_state import AppSettings, AppState
from canteen_app.storage import FileStore
from e2e_support import ARGS, CHROMIUM, TIMEOUT


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    server = Backend.start(tmp_path_factory.mktemp("canteen-app-backend"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def api(backend: Backend) -> Iterator[Api]:
    client = Api(backend)
    yield client
    client.close()


@pytest.fixture(scope="session")
def menu(api: Api) -> DemoMenu:
    return api.prepare_menu()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "device"


@pytest.fixture
async def make_state(
    backend: Backend, menu: DemoMenu, data_dir: Path
) -> AsyncIterator[type[AppState]]:
    """`make_state()` → a new AppState on the device's data dir (a "restart" when called
    again); every state made is closed at the end."""
    made: list[AppState] = []

    def factory(api_url: str | None = None, directory: Path | None = None) -> AppState:
        directory = directory or data_dir
        settings = AppSettings(
            api_url=api_url or backend.api,
            data_dir=directory,
            offline_probe_interval=0.2,
            tracking_poll_interval=0.5,
            clock_offset_seconds=CLOCK_OFFSET,
        )
        state = AppState(settings, store=FileStore(directory))
        made.append(state)
        return state

    yield factory  # type: ignore[misc]
    for state in made:
        await state.close()


# ---- the browser tests (test_app_e2e.py, test_app_journeys.py) ------------------------


@pytest.fixture(scope="module")
def app(
    backend: Backend, menu: DemoMenu, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppProcess]:
    server = AppProcess.start(
        tmp_path_factory.mktemp("canteen-app-web"), backend.api, renderer="canvaskit"
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def ctx(browser: Browser) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 420, "height": 900})
    context.set_default_timeout(TIMEOUT)
    yield context
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where screenshots go; with CANTEEN_APP_SCREENSHOTS set, copied to docs/ after."""
    target = os.environ.get("CANTEEN_APP_SCREENSHOTS")
    folder = Path(target) if target else tmp_path_factory.mktemp("screens")
    yield folder
    docs = Path(__file__).resolve().parents[2] / "docs"
    if target and folder.resolve() != docs.resolve():
        for png in folder.glob("app-*.png"):
            shutil.copy(png, docs / png.name)


@pytest.fixture(scope="module")
def customer() -> dict[str, str]:
    return {"phone": new_phone()}
