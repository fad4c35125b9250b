"""Response envelopes: `{"data": ...}` and, for lists, `"meta": {page, per_page, total}`."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel

T = TypeVar("T")


class ORJSONResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class Envelope(BaseModel, Generic[T]):
    data: T


class PageMeta(BaseModel):
    page: int
    per_page: int
    total: int


class ListEnvelope(BaseModel, Generic[T]):
    data: list[T]
    meta: PageMeta


def envelope(data: T) -> Envelope[T]:
    return Envelope[T](data=data)
