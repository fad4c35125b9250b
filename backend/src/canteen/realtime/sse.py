"""What the server-sent event streams (the kitchen's, the students' menu) share: who is
asking, and noticing that they have gone."""

from __future__ import annotations

import uuid

from fastapi import Request

from canteen.auth.deps import authenticate
from canteen.core.container import Container
from canteen.core.errors import InsufficientRole, InvalidToken
from canteen.users.models import Role

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
Account = tuple[uuid.UUID, str]  # (user id, role): what realtime.accounts watches


def bearer_token(token: str | None, authorization: str | None) -> str:
    """The access token from `?token=` (an EventSource cannot send headers) or the
    `Authorization` header; 401 when there is neither."""
    raw = token or (authorization or "").removeprefix("Bearer ").strip()
    if not raw:
        raise InvalidToken("Authentication is required")
    return raw


async def stream_account(c: Container, raw: str, roles: tuple[Role, ...] = ()) -> Account:
    """The signed-in account a stream is opened for (any role unless `roles` are given).

    Its own short session: a stream lives for many minutes and must hold no transaction.
    """
    async with c.sessionmaker() as session:
        user = await authenticate(c, session, raw)
    if roles and user.role not in roles:
        raise InsufficientRole(
            details=[{"required_roles": [str(r) for r in roles], "role": user.role}]
        )
    return user.id, str(user.role)


async def wait_disconnect(request: Request) -> None:
    """Return once the client has gone: a stream notices at once, not at its next write
    (a dropped tablet must not keep its stream, or a server shutdown, waiting)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
