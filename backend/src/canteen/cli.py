"""`canteen` command line: serve, worker, migrate, seed-demo, create-admin."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from canteen import __version__
from canteen.settings import ConfigurationError, Settings, check_production, get_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="canteen", description="Canteen backend")
    parser.add_argument("--version", action="version", version=f"canteen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API (and, when embedded, everything else)")
    serve.add_argument("--host", default=os.environ.get("CANTEEN_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("CANTEEN_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)

    sub.add_parser("worker", help="run a Celery worker (needs CANTEEN_REDIS_URL)")
    sub.add_parser("beat", help="run Celery beat for the periodic sweeps (one per deployment)")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("seed-demo", help="load the demo canteen (idempotent)")

    admin = sub.add_parser("create-admin", help="create (or reset) an admin account")
    admin.add_argument("--phone", required=True)
    admin.add_argument("--password", help="prompted for when omitted")
    admin.add_argument("--name", required=True)

    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        check_production(settings)
    except ConfigurationError as exc:
        sys.exit(str(exc))

    if args.command == "serve":
        _serve(settings, args.host, args.port, args.workers)
    elif args.command == "worker":
        _worker()
    elif args.command == "beat":
        from canteen.worker import _default_app

        _default_app().Beat(loglevel="INFO").run()
    elif args.command == "migrate":
        _migrate(settings)
        print("database is at the latest migration")
    elif args.command == "seed-demo":
        _migrate(settings)
        asyncio.run(_seed(settings))
        print("demo data loaded")
    elif args.command == "create-admin":
        password = args.password or getpass.getpass("Password: ")
        if len(password) < 8:
            sys.exit("the password must have at least 8 characters")
        _migrate(settings)
        asyncio.run(_create_admin(settings, args.phone, password, args.name))


def _migrate(settings: Settings) -> None:
    from canteen.migrate import upgrade

    upgrade(settings.resolved_database_url)


def _load_models() -> None:
    """Map every model before the first flush: a flush sorts the tables by their foreign
    keys, and menu_items.station_id names `stations`, which nothing on the seed's path
    imports (`canteen serve` on PostgreSQL seeds before the app, or any migration, loads it)."""
    import canteen.models  # noqa: F401


async def _seed(settings: Settings, only_if_empty: bool = False) -> bool:
    from canteen.core.db import make_engine, make_sessionmaker
    from canteen.demo.seed import is_empty, seed_demo

    _load_models()

    engine = make_engine(settings.resolved_database_url, pool=False)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            if only_if_empty and not await is_empty(session):
                return False
            await seed_demo(session)
            return True
    finally:
        await engine.dispose()


async def _create_admin(settings: Settings, phone: str, password: str, name: str) -> None:
    from canteen.core.db import make_engine, make_sessionmaker
    from canteen.core.errors import AppError
    from canteen.core.phones import normalise_phone
    from canteen.users.service import create_admin

    _load_models()
    try:
        normalised = normalise_phone(phone, settings.phone_region)
    except AppError:
        sys.exit(f"not a valid phone number: {phone}")
    engine = make_engine(settings.resolved_database_url, pool=False)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            user = await create_admin(session, normalised, password, name)
        print(f"admin {user.name} ({user.phone}) is ready")
    finally:
        await engine.dispose()


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from canteen.core.logging import configure_logging

    if "CANTEEN_PUBLIC_BASE_URL" not in os.environ:
        # Links the server hands out (checkout pages, webhooks to itself) use this address.
        public_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        os.environ["CANTEEN_PUBLIC_BASE_URL"] = f"http://{public_host}:{port}"
        get_settings.cache_clear()
        settings = get_settings()

    configure_logging(fmt=settings.resolved_log_format)
    auto_migrate = (
        settings.auto_migrate if settings.auto_migrate is not None else settings.is_sqlite
    )
    seed = (
        settings.seed_demo
        if settings.seed_demo is not None
        else (settings.is_sqlite and not settings.is_production)
    )
    if auto_migrate:
        _migrate(settings)
    if seed and asyncio.run(_seed(settings, only_if_empty=True)):
        print("Loaded the demo canteen (see README: demo accounts).", file=sys.stderr)
    if workers > 1 and settings.embedded:
        sys.exit("more than one worker needs CANTEEN_REDIS_URL (the event bus must be shared)")
    uvicorn.run(
        "canteen.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # our middleware logs requests with ids and redacted tokens
        log_config=None,
        ws="websockets-sansio",
        ws_per_message_deflate=False,  # deflate costs ~64 KiB per socket
        proxy_headers=settings.trust_forwarded_for,
    )


def _worker() -> None:
    from canteen.worker import _default_app

    app = _default_app()
    app.worker_main(["worker", "--loglevel=INFO", "--concurrency=2"])


if __name__ == "__main__":
    main()
