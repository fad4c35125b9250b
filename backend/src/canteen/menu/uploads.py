"""Reading one image file out of a multipart request, with the size capped while reading.

FastAPI's `UploadFile` parameter would spool the whole body (any size) before our code
runs; here the body is counted as it arrives and refused past the limit, and only after
the caller's dependencies (authentication) have passed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

from python_multipart.exceptions import MultipartParseError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from canteen.core.db import end_read_transaction
from canteen.core.errors import ValidationFailed, field_error
from canteen.menu import service
from canteen.menu.images import MAX_BYTES
from canteen.menu.models import MenuItem
from canteen.storage.base import Storage

FIELD = "file"
# Room for the multipart boundaries and part headers around a file at the limit.
ENVELOPE_BYTES = 64 * 1024

OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {
                        FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "JPEG, PNG or WebP; at most 5 MB and 4096x4096",
                        }
                    },
                }
            }
        },
    }
}


class _TooLarge(MultiPartException):
    """A MultiPartException, so Starlette closes the parts' temp files on the way out."""

    def __init__(self) -> None:
        super().__init__("too large")


def _invalid(issue: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[field_error(FIELD, issue, message)])


async def read_image_upload(request: Request, limit: int = MAX_BYTES) -> bytes:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise _invalid("missing", "Send the image as multipart/form-data in a field called 'file'")
    cap = limit + ENVELOPE_BYTES
    too_large = _invalid("too_large", f"The image is over the {limit // 2**20} MB limit")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise too_large

    async def capped() -> AsyncGenerator[bytes, None]:
        seen = 0
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > cap:
                raise _TooLarge
            yield chunk

    parser = MultiPartParser(request.headers, capped(), max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except _TooLarge:
        raise too_large from None
    except (MultiPartException, MultipartParseError, ValueError) as exc:
        raise _invalid("invalid_multipart", f"The multipart body could not be read: {exc}") from exc
    try:
        upload = form.get(FIELD)
        if not isinstance(upload, UploadFile):
            raise _invalid("missing", "No file in the 'file' field")
        data = await upload.read(limit + 1)
    finally:
        await form.close()
    # One byte over is enough to know; process_image gives the exact message.
    return data


async def receive_item_image(
    session: AsyncSession,
    storage: Storage,
    item_id: uuid.UUID,
    request: Request,
    *,
    actor_id: uuid.UUID,
) -> MenuItem:
    """POST /admin/menu/items/{id}/image: read the multipart body, then store the image."""
    # Authentication has read the account; end that transaction before the body arrives,
    # so a slow upload holds no database lock (on SQLite every transaction is a writer).
    await end_read_transaction(session)
    data = await read_image_upload(request)
    return await service.set_item_image(session, storage, item_id, data, actor_id=actor_id)
