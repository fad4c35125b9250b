"""`canteen-app`: start the consumer app.

    canteen-app --web --port 8550 --api http://127.0.0.1:8000/api/v1   # in a browser
    canteen-app --api https://canteen.example.edu/api/v1               # desktop window

In web mode the Flet web client is served from this process (`FLET_WEB_NO_CDN=1` is
set, so nothing is fetched from a CDN) at http://HOST:PORT/; open it in a browser.
Mobile builds (`flet build apk|ipa`) start `main()` through `canteen_app.mobile`.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import flet as ft

from canteen_app.state.app_state import AppSettings, AppState
from canteen_app.state.push import NoopPushRegistrar, PushRegistrar
from canteen_app.storage import ClientStorage, FileStore, KeyValueStore
from canteen_app.ui.app import CanteenApp

DEFAULT_API = "http://127.0.0.1:8000/api/v1"
log = logging.getLogger("canteen_app")


def default_data_dir() -> Path:
    for var in ("CANTEEN_APP_DATA_DIR", "FLET_APP_STORAGE_DATA"):
        value = os.environ.get(var)
        if value:
            return Path(value)
    return Path.home() / ".canteen-app"


def storage_kind(requested: str, *, web: bool, mobile: bool) -> str:
    """Where one session keeps its session, tokens and cart.

    A web session is one visitor's browser: its data lives in that browser (Flet client
    storage is the browser's localStorage), never in a file of this server, which every
    visitor would share (one student for all). Phones keep it in the platform's
    preferences; only the desktop app, one person on one computer, uses the data dir."""
    if web or mobile:
        return "client"
    return "file" if requested == "auto" else requested


def make_main(
    api_url: str,
    data_dir: Path,
    *,
    storage: str = "auto",
    push_factory: Callable[[ft.Page], PushRegistrar] | None = None,
) -> Callable[[ft.Page], Awaitable[None]]:
    """The Flet entry point for one session (a browser tab, or the app on a phone)."""

    async def main(page: ft.Page) -> None:
        mobile = not page.web and page.platform is not None and page.platform.is_mobile()
        platform = page.platform.value if mobile and page.platform is not None else "web"
        kind = storage_kind(storage, web=page.web, mobile=mobile)
        store: KeyValueStore = (
            ClientStorage(ft.SharedPreferences()) if kind == "client" else FileStore(data_dir)
        )
        settings = AppSettings(
            api_url=api_url,
            data_dir=data_dir,
            platform="android" if platform.startswith("android") else platform,
            storage=kind,
            clock_offset_seconds=float(os.environ.get("CANTEEN_APP_CLOCK_OFFSET_SECONDS") or 0),
        )
        push = push_factory(page) if push_factory is not None else NoopPushRegistrar()
        state = AppState(settings, store=store, push=push)
        app = CanteenApp(page, state)
        await app.start()

    return main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="canteen-app", description=__doc__.split("\n")[0])
    parser.add_argument("--web", action="store_true", help="serve the app to a browser")
    parser.add_argument("--host", default=os.environ.get("CANTEEN_APP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CANTEEN_APP_PORT", "8550")))
    parser.add_argument(
        "--api",
        default=os.environ.get("CANTEEN_API_URL", DEFAULT_API),
        help="the API root, e.g. http://127.0.0.1:8000/api/v1",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the cart and session are kept (default ~/.canteen-app)",
    )
    parser.add_argument(
        "--storage",
        choices=("auto", "file", "client"),
        default=os.environ.get("CANTEEN_APP_STORAGE", "auto"),
        help="desktop app: file (the data dir, default) or client (Flet client storage); "
        "web mode and phones always keep it in the browser or on the phone",
    )
    parser.add_argument("--open", action="store_true", help="web mode: open a browser tab")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("CANTEEN_APP_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    data_dir = args.data_dir or default_data_dir()
    main = make_main(args.api, data_dir, storage=args.storage)
    if args.web:
        os.environ.setdefault("FLET_WEB_NO_CDN", "1")
        if not args.open:
            os.environ.setdefault("FLET_FORCE_WEB_SERVER", "1")  # serve, open no browser
        print(f"Canteen app: http://{args.host}:{args.port}/ (API {args.api})", flush=True)
        ft.run(
            main,
            host=args.host,
            port=args.port,
            view=ft.AppView.WEB_BROWSER,
            no_cdn=True,
            assets_dir=str(Path(__file__).parent / "assets"),
        )
    else:
        ft.run(main, assets_dir=str(Path(__file__).parent / "assets"))


if __name__ == "__main__":
    run()
