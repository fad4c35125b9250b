"""What the server-sent event streams (the kitchen's, the students' menu, the display's)
share: who is asking, where they resume, and noticing that they have gone."""

from __future__ import annotations

import re
import uuid

from fastapi import Request

from canteen.auth.deps import authenticate
from canteen.core.container import Container
from canteen.core.errors import InsufficientRole, InvalidToken, ValidationFailed, field_error
from canteen.users.models import Role

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
Account = tuple[uuid.UUID, str]  # (user id, role): what realtime.accounts watches
# Event seqs are 64-bit, written in ASCII digits (int() also takes "+1", " 1", "1_0"
# and other scripts' digits).
_SEQ_RE = re.compile(r"[0-9]{1,19}")
_MAX_SEQ = 2**63 - 1


def bearer_token(token: str | None, authorization: str | None) -> str:
    """The access token from `?token=` (an EventSource cannot send headers) or the
    `Authorization` header; 401 when there is neither."""
    raw = token or (authorization or "").removeprefix("Bearer ").strip()
    if not raw:
        raise InvalidToken("Authentication is required")
    return raw


def parse_seq(raw: str) -> int:
    """A resume position, refused (400) unless it is a seq an event could have."""
    if _SEQ_RE.fullmatch(raw) is None or int(raw) > _MAX_SEQ:
        raise ValidationFailed(
            "Last-Event-ID must be an event sequence number",
            details=[field_error("Last-Event-ID", "invalid")],
        )
    return int(raw)


def resume_seq(last_event_id: str | None, last_event_id_query: str | None) -> int | None:
    """Where a stream resumes: the `Last-Event-ID` header, else `?last_event_id=`; None
    for "from now". Both are refused when malformed, even when the header wins (the
    contract gives each the same pattern)."""
    for value in (last_event_id_query, last_event_id):
        if value is not None:
            parse_seq(value)
    resume = last_event_id if last_event_id is not None else last_event_id_query
    return None if resume is None else parse_seq(resume)


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
