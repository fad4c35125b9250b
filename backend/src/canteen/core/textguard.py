"""No NUL characters in what clients send (issue 13, point 11).

PostgreSQL cannot store U+0000 in text or JSONB and fails the statement, which surfaced as
a 500 wherever a client's text reached the database; SQLite stores it, so the same request
did different things on the two backends. No field of this API has a use for it, so every
query parameter and every JSON string (keys included) is checked once, up front, by one
dependency every route carries, before the endpoint runs and so before anything is written.
The answer is 400 `VALIDATION_ERROR` naming the field, like any other invalid value.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import HTTPConnection, Request

from canteen.core.errors import ValidationFailed, field_error

NUL = "\x00"
_ISSUE = "nul_character"
_MESSAGE = "Text may not contain the NUL character (U+0000)"


def nul_refusal(field: str) -> ValidationFailed:
    return ValidationFailed(details=[field_error(field, _ISSUE, _MESSAGE)])


def find_nul(value: Any, path: tuple[str, ...] = ()) -> str | None:
    """The dotted path of the first string (or key) in `value` holding a NUL, else None."""
    if isinstance(value, str):
        return ".".join(path) or "body" if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                return ".".join((*path, key.replace(NUL, "\\u0000"))) or "body"
            found = find_nul(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_nul(item, (*path, str(index)))
            if found is not None:
                return found
    return None


async def reject_nul_characters(conn: HTTPConnection) -> None:
    """Route dependency: 400 when a query parameter or a JSON body carries a NUL."""
    if conn.scope["type"] != "http":
        return
    raw_query: bytes = conn.scope.get("query_string", b"")
    if b"%00" in raw_query or b"\x00" in raw_query:
        for name, value in conn.query_params.multi_items():
            if NUL in name or NUL in value:
                raise nul_refusal(name.replace(NUL, "\\u0000") or "query")
    if not isinstance(conn, Request):
        return
    # FastAPI reads a body without a content type as JSON too.
    content_type = conn.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        return
    # FastAPI has already read (and cached) the body of a route that declares one.
    body = await conn.body()
    if b"\\u0000" not in body:  # a NUL can only arrive escaped: raw control bytes are not JSON
        return
    try:
        data = json.loads(body)
    except ValueError:
        return  # not JSON: the route's own validation answers that
    field = find_nul(data)
    if field is not None:
        raise nul_refusal(field)
