"""Fixtures for the consumer app's tests.

The backend is the real one, started as a subprocess (`canteen serve`, embedded default)
once per test session in a temporary data directory; the app's state and the Flet app
talk to it over HTTP and WebSocket exactly as they do in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app_harness import Api, Backend, DemoMenu
from canteen_app.state.app_state import AppSettings, AppState
from canteen_app.storage import FileStore


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
        )
        state = AppState(settings, store=FileStore(directory))
        made.append(state)
        return state

    yield factory  # type: ignore[misc]
    for state in made:
        await state.close()
