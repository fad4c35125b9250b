"""Per-request costs cut for issue 20, and the guarantees they must keep.

- The pool no longer pings PostgreSQL on every checkout (three round trips): a connection
  the server closed is replaced at checkout from asyncpg's own view of its socket, and one
  that sat idle (a Celery worker's loop does not run between jobs, so it cannot have seen
  the socket end) gets the real ping. After every backend was terminated, requests and
  statements still succeed.
"""

from __future__ import annotations

import asyncio
import threading
import time

import asyncpg
import pytest
from sqlalchemy import text

from canteen.core.db import IDLE_PING_SECONDS
from conftest import API, BACKEND, bearer, login_customer


def _terminate_backends(container) -> int:
    """Terminate every backend of the test database, from a connection outside the pool,
    on a thread of its own: this test's event loop is blocked meanwhile and sees nothing."""
    url = container.settings.resolved_database_url.replace("+asyncpg", "")

    async def terminate() -> int:
        admin = await asyncpg.connect(url)
        try:
            return int(
                await admin.fetchval(
                    "SELECT count(*) FROM pg_stat_activity, pg_terminate_backend(pid) "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        finally:
            await admin.close()

    killed: list[int] = []
    thread = threading.Thread(target=lambda: killed.append(asyncio.run(terminate())))
    thread.start()
    thread.join()
    return killed[0]


async def _backend_pids(container) -> list[int]:
    async with container.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        )
        return [int(pid) for (pid,) in rows]


@pytest.mark.skipif(BACKEND != "postgres", reason="the connection pool is PostgreSQL's")
async def test_a_connection_the_server_closed_is_replaced_at_checkout(client, container):
    customer = await login_customer(client, container)
    r = await client.get(f"{API}/users/me", headers=bearer(customer))
    assert r.status_code == 200
    pooled = await _backend_pids(container)
    killed = _terminate_backends(container)
    assert killed >= 1
    await asyncio.sleep(0.2)  # the event loop sees the sockets end
    for _ in range(3):  # every pooled connection was closed: each is replaced in turn
        r = await client.get(f"{API}/users/me", headers=bearer(customer))
        assert r.status_code == 200, r.text
        assert r.json()["data"]["id"] == customer["user"]["id"]
    assert not set(pooled) & set(await _backend_pids(container))


@pytest.mark.skipif(BACKEND != "postgres", reason="the connection pool is PostgreSQL's")
async def test_an_idle_connection_is_pinged_when_its_loop_saw_nothing(container):
    """A Celery worker runs its loop only during a job: its pooled connections cannot have
    seen the server close them. Here the loop is blocked instead, from the termination to
    the checkout, so asyncpg still believes the connection open; the idle ping finds out."""
    async with container.engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    assert _terminate_backends(container) >= 1
    time.sleep(IDLE_PING_SECONDS + 0.5)  # blocking on purpose: the loop sees no socket end
    async with container.engine.connect() as conn:
        assert (await conn.execute(text("SELECT 2"))).scalar_one() == 2
