"""The backend a test suite runs against, on the backend chosen by CANTEEN_TEST_BACKEND.

embedded   SQLite file, in-process key-value store and jobs
postgres   PostgreSQL + Redis + a real Celery worker process

A `StackPlan` names one suite's own resources (its PostgreSQL database and Redis
databases), so the backend and SDK suites can run in one process or side by side. Both
databases are built by the Alembic migrations; `reset` empties them between tests.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from canteen_testkit.commands import celery_worker_command

if TYPE_CHECKING:
    from canteen.settings import Settings

BACKEND = os.environ.get("CANTEEN_TEST_BACKEND", "embedded")
PG_SERVER = os.environ.get("CANTEEN_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_BASE = os.environ.get("CANTEEN_TEST_REDIS", "redis://127.0.0.1:6379")
TEST_SECRET = "test-secret-key-0123456789abcdef0123456789abcdef"
# The canteen time a run's clocks start at (HH:MM today in the canteen's zone), so a test
# sees the same hour of the day whenever the run is: the all-day slots the tests order
# from end at midnight. `real` keeps the real time.
LOCAL_TIME = os.environ.get("CANTEEN_TEST_LOCAL_TIME", "10:00")
CANTEEN_ZONE = "Asia/Kolkata"


@dataclass(frozen=True)
class StackPlan:
    """One suite's resources on the PostgreSQL + Redis run."""

    database: str
    redis_db: int  # key-value data
    broker_db: int  # Celery's broker: per-test flushes of the data must not eat tasks


def backend_plan() -> StackPlan:
    # Redis databases 0-9 for backend runs, chosen by process id so two runs on one machine
    # rarely share a broker; the SDK suite uses 12 and 13, benchmarks 10 and 11.
    kv = (os.getpid() % 5) * 2
    return StackPlan(f"canteen_test_{os.getpid()}", kv, kv + 1)


def sdk_plan() -> StackPlan:
    return StackPlan(f"canteen_client_test_{os.getpid()}", 13, 12)


def stack_env(plan: StackPlan, data_dir: Path, sandbox_url: str) -> dict[str, str]:
    """The CANTEEN_* environment of a run, shared with its worker and subprocesses."""
    env = {
        "CANTEEN_ENV": "test",
        "CANTEEN_SECRET_KEY": TEST_SECRET,
        "CANTEEN_DATA_DIR": str(data_dir),
        "CANTEEN_RAZORPAY_BASE_URL": sandbox_url,
        "CANTEEN_CLOCK_OFFSET_SECONDS": repr(clock_offset()),
    }
    if BACKEND == "postgres":
        env["CANTEEN_DATABASE_URL"] = f"{PG_SERVER}/{plan.database}"
        env["CANTEEN_REDIS_URL"] = f"{REDIS_BASE}/{plan.redis_db}"
        env["CANTEEN_CELERY_BROKER_URL"] = f"{REDIS_BASE}/{plan.broker_db}"
    elif BACKEND != "embedded":
        raise ValueError(f"unknown CANTEEN_TEST_BACKEND={BACKEND!r}")
    return env


@cache
def clock_offset() -> float:
    """Seconds from now to LOCAL_TIME today: one shift for the run's every process (its
    worker and servers too), taken once."""
    if LOCAL_TIME == "real":
        return 0.0
    hour, minute = (int(part) for part in LOCAL_TIME.split(":"))
    now = datetime.now(ZoneInfo(CANTEEN_ZONE))
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (target - now).total_seconds()


def make_settings(base: Mapping[str, str], **overrides: Any) -> Settings:
    from canteen.settings import Settings

    values: dict[str, Any] = {k.removeprefix("CANTEEN_").lower(): v for k, v in base.items()}
    values.update(overrides)
    return Settings(**values)


def pg_admin(sql: str) -> None:
    """Run `sql` on the PostgreSQL server's maintenance database (autocommit)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(
        f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


@contextmanager
def migrated(env: Mapping[str, str], plan: StackPlan) -> Iterator[Settings]:
    """The run's settings on a fresh database built by the migrations; dropped after.
    This process then runs on the run's clock, as its worker and servers do."""
    from canteen.core.clock import shift_process_clock
    from canteen.migrate import upgrade

    settings = make_settings(env)
    shift_process_clock(settings.clock_offset_seconds)
    if BACKEND == "postgres":
        pg_admin(f'DROP DATABASE IF EXISTS "{plan.database}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{plan.database}"')
    upgrade(settings.resolved_database_url)
    try:
        yield settings
    finally:
        if BACKEND == "postgres":
            pg_admin(f'DROP DATABASE IF EXISTS "{plan.database}" WITH (FORCE)')


def reset_database(settings: Settings) -> None:
    """Empty every table (the schema stays)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from canteen.models import Base

    url = settings.resolved_database_url.replace("+asyncpg", "+psycopg").replace("+aiosqlite", "")
    engine = create_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    # The Celery worker may still be finishing the previous test's job (a push, a refund):
    # TRUNCATE can then deadlock with it, so try again rather than fail the next test.
    for attempt in range(10):
        try:
            with engine.begin() as conn:
                if url.startswith("postgresql"):
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


def reset(settings: Settings) -> None:
    """Empty tables and the key-value Redis database: every test starts from nothing."""
    reset_database(settings)
    if settings.redis_url:
        import redis

        redis.Redis.from_url(settings.redis_url).flushdb()


def start_celery_worker(
    env: Mapping[str, str], log_path: Path, *extra: str
) -> subprocess.Popen[bytes]:
    """A Celery worker process with `env` over this environment, appending to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            celery_worker_command(*extra),
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_worker_ready(
    proc: subprocess.Popen[bytes], log_path: Path, seen: int = 0, timeout: float = 120
) -> None:
    """Until the log holds more than `seen` "ready." lines (one per worker started on it).

    Tasks would wait in the queue, but a test waiting for an SMS gives up after 15 s:
    a suite starts once the worker says it is ready (slow on a busy 2-core machine)."""
    deadline = time.monotonic() + timeout
    while log_path.read_bytes().count(b"ready.") <= seen:
        if proc.poll() is not None:
            raise RuntimeError("the Celery worker exited:\n" + log_path.read_text()[-3000:])
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker did not become ready in {timeout:.0f} s")
        time.sleep(0.2)


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextmanager
def celery_worker(
    env: Mapping[str, str], settings: Settings
) -> Iterator[subprocess.Popen[bytes] | None]:
    """A real Celery worker on the PostgreSQL + Redis run (nothing on the embedded one),
    started on an empty broker and ready before the first test."""
    if BACKEND != "postgres":
        yield None
        return
    import redis

    redis.Redis.from_url(settings.resolved_broker_url or "").flushdb()
    log_path = Path(settings.data_dir) / "celery-worker.log"
    proc = start_celery_worker(env, log_path)
    try:
        wait_worker_ready(proc, log_path)
        yield proc
    finally:
        stop_worker(proc)
