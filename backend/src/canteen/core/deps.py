"""Chained request dependencies: the container and the unit of work.

Who is asking (the current user, roles) is the auth domain's: `canteen.auth.deps`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from canteen.core.container import Container
from canteen.core.db import session_scope


# The routes' dependencies take the connection, not ContainerDep: FastAPI solves a
# sub-dependency again each time it appears, cached or not, and the session and the
# current user are on nearly every route (issue 20: four fewer solves per order).
def container_of(conn: HTTPConnection) -> Container:
    container: Container = conn.app.state.container
    return container


# Dependencies are `async def` even when they await nothing: FastAPI runs a plain `def`
# dependency on a worker thread, a thread hop on every request of every route (issue 20).
async def get_container(conn: HTTPConnection) -> Container:
    return container_of(conn)


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    container = container_of(conn)
    async for session in session_scope(container.sessionmaker):
        # Events recorded in this unit of work wake the outbox dispatcher after commit.
        session.info["on_event"] = container.dispatcher.kick
        yield session


# scope="function": commit before the response is sent, so a failed commit is never
# answered with a success.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
