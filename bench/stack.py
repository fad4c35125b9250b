"""The system under test: PostgreSQL database + Redis + `canteen serve` (N workers) +
a Celery worker + the standalone Razorpay sandbox, brought up fresh for each
configuration and torn down after it."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import infra, pg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Our own database name per process: another process dropping "canteen_bench" (a concurrent
# bench run, a clean-up) must not take this run's database away. The stack drops it when
# it closes (one-off tools left one behind per run).
DB_NAME = f"canteen_bench_{os.getpid()}"
# The API's Redis database on the private redis-server (Celery's broker is the next one).
REDIS_DB = 10

SERVER_CPUS = (0,)  # the API, its worker, the ceilings
LOADGEN_CPUS = (1,)  # the load generator and the WebSocket holders
# The gateway sandbox plays Razorpay's servers, whose CPU is not the canteen's to pay
# (issue 20: on the servers' core it took CPU from the API in every UPI figure).
SANDBOX_CPUS = LOADGEN_CPUS


@dataclass
class Stack:
    workers: int
    work: Path
    database_url: str
    redis_base: str
    api: infra.Proc
    celery: infra.Proc
    sandbox: infra.Proc
    env: dict[str, str]

    @property
    def port(self) -> int:
        assert self.api.port is not None
        return self.api.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox.port}"

    def api_pids(self) -> list[int]:
        return self.api.serving_pids()


@contextlib.contextmanager
def stack(
    *,
    workers: int,
    work: Path,
    redis_base: str,
    admin_url: str = ADMIN_URL,
    db_name: str = DB_NAME,
    redis_db: int = REDIS_DB,
    server_cpus: Sequence[int] = SERVER_CPUS,
) -> Iterator[Stack]:
    work.mkdir(parents=True, exist_ok=True)
    database_url = infra.recreate_database(admin_url, db_name)
    procs: list[infra.Proc] = []
    try:  # from here on, the database is dropped however this ends
        # Flush our Redis databases (a previous configuration's keys and Celery queue).
        import redis as redis_sync

        for db in (redis_db, redis_db + 1):
            with contextlib.closing(redis_sync.Redis.from_url(f"{redis_base}/{db}")) as r:
                r.flushdb()
        port = infra.free_port()
        sandbox_port = infra.free_port()
        env = infra.app_env(
            work=work,
            database_url=database_url,
            redis_base=redis_base,
            redis_db=redis_db,
            port=port,
            sandbox_port=sandbox_port,
        )
        # The rush is a lunch rush: the canteen's zone is one where lunch is being served now,
        # so orders are for now (not pre-orders for tomorrow's lunch) and the estimates meet
        # the kitchen that cooks them.
        env["CANTEEN_TIMEZONE"] = infra.lunch_zone()
        sandbox = infra.start_sandbox(
            env,
            sandbox_port,
            f"http://127.0.0.1:{port}/api/v1/payments/webhooks/razorpay",
            work / "sandbox.log",
            SANDBOX_CPUS,
        )
        procs.append(sandbox)
        api = infra.start_api(env, port, workers, work / "api.log", server_cpus)
        procs.append(api)
        celery = infra.start_celery(env, work / "celery.log", server_cpus)
        procs.append(celery)
        _check_jobs(f"http://127.0.0.1:{port}")
        asyncio.run(pg.open_kitchen(database_url))
        yield Stack(workers, work, database_url, redis_base, api, celery, sandbox, env)
    finally:
        for proc in reversed(procs):
            proc.stop()
        infra.drop_database(admin_url, db_name)


def _check_jobs(base_url: str, timeout: float = 60.0) -> None:
    """End to end: an OTP request enqueues an SMS job; the worker puts it in the outbox."""
    import time

    import httpx

    phone = "+919700000000"
    with httpx.Client(base_url=base_url, timeout=10) as http:
        http.post("/api/v1/auth/request-otp", json={"phone": phone}).raise_for_status()
        deadline = time.monotonic() + timeout
        while not http.get("/api/v1/dev/outbox", params={"channel": "sms", "to": phone}).json()[
            "data"
        ]:
            if time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not run the SMS job")
            time.sleep(0.2)
