"""Per-request costs cut for issue 20, and the guarantees they must keep.

- The pool no longer pings PostgreSQL on every checkout (three round trips): a connection
  the server closed is replaced at checkout from asyncpg's own view of its socket. A
  request after every backend was terminated still answers, and nothing is lost.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from conftest import API, BACKEND, bearer, login_customer


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
    # Terminate every backend our pool holds (from a connection outside the pool).
    admin = await asyncpg.connect(container.settings.resolved_database_url.replace("+asyncpg", ""))
    try:
        killed = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity, pg_terminate_backend(pid) "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    assert killed >= 1
    await asyncio.sleep(0.2)  # the event loop sees the sockets end
    for _ in range(3):  # every pooled connection was closed: each is replaced in turn
        r = await client.get(f"{API}/users/me", headers=bearer(customer))
        assert r.status_code == 200, r.text
        assert r.json()["data"]["id"] == customer["user"]["id"]
    assert not set(pooled) & set(await _backend_pids(container))
