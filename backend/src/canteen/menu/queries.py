"""Query strings of the public menu reads, parsed once per distinct string.

The menu routes take the raw `Request` instead of FastAPI query parameters: FastAPI's
per-request parameter handling (and a sync dependency's thread hop) cost more than the
whole cached answer. Parsing here is validated by the same pydantic rules and answered
with the same error contract; the result is cached by the raw query bytes, so a repeated
query (the apps' usual case) is a dict lookup. The OpenAPI parameters are generated from
the same models.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from canteen.core.errors import ValidationFailed, field_error
from canteen.core.textguard import NUL, nul_refusal
from canteen.menu.models import Allergen, Diet

MAX_PER_PAGE = 500
CURRENT = "current"
_MAX_PARSED = 1024
T = TypeVar("T")


class PageParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: Annotated[int, Field(ge=1, le=100_000, description="Page number")] = 1
    per_page: Annotated[
        int, Field(ge=1, le=MAX_PER_PAGE, description="Page size; the whole menu by default")
    ] = MAX_PER_PAGE


class ItemParams(PageParams):
    category_id: Annotated[uuid.UUID | None, Field(description="Only this category")] = None
    time_slot: Annotated[
        str | None,
        Field(
            max_length=32,
            description=f"A slot code, or `{CURRENT}` for the slot being served now "
            "(no items when none is)",
        ),
    ] = None
    diet: Annotated[list[Diet], Field(description="Repeatable: any of these marks")] = []
    allergen_free: Annotated[
        list[Allergen], Field(description="Repeatable: leave out items with any of these")
    ] = []
    q: Annotated[str | None, Field(max_length=100, description="Name contains (any case)")] = None
    available: Annotated[
        bool | None, Field(description="true: can be ordered now; false: sold out")
    ] = None


_LIST_FIELDS = frozenset({"diet", "allergen_free"})


def parse_params(model: type[PageParams], raw: bytes) -> PageParams:
    """Starlette's reading of a query string (last value wins; lists repeat; blank values
    count as absent), validated by `model`; errors in the API's error contract."""
    values: dict[str, Any] = {}
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if NUL in key or NUL in value:  # as on every other route (canteen.core.textguard)
            raise nul_refusal(key.replace(NUL, "\\u0000") or "query")
        if value == "":
            continue
        if key in _LIST_FIELDS:
            values.setdefault(key, []).append(value)
        else:
            values[key] = value
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed(
            details=[
                field_error(
                    ".".join(str(p) for p in err["loc"]) or "query", err["type"], err["msg"]
                )
                for err in exc.errors()
            ]
        ) from None


class ParsedQueries(Generic[T]):
    """A bounded cache of raw query bytes -> parsed, normalised parameters."""

    def __init__(self, parse: Callable[[bytes], T]) -> None:
        self.parse = parse
        self._parsed: OrderedDict[bytes, T] = OrderedDict()

    def get(self, raw: bytes) -> T:
        try:
            return self._parsed[raw]
        except KeyError:
            pass
        params = self.parse(raw)  # raises ValidationFailed (not cached)
        self._parsed[raw] = params
        if len(self._parsed) > _MAX_PARSED:
            self._parsed.popitem(last=False)
        return params


def openapi_parameters(
    model: type[BaseModel] | None, *, if_none_match: bool = True
) -> dict[str, Any]:
    """`openapi_extra` documenting `model`'s fields as query parameters."""
    properties: dict[str, Any] = {}
    if model is not None:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        properties = schema["properties"]
    parameters: list[dict[str, Any]] = []
    for name, prop in properties.items():
        prop = dict(prop)
        description = prop.pop("description", "")
        prop.pop("title", None)
        entry: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": False,
            # parse_params reads `?category_id=` (a blank value) as absent.
            "allowEmptyValue": True,
            "schema": prop,
            "description": description,
        }
        if prop.get("type") == "array":
            entry.update(style="form", explode=True)
        parameters.append(entry)
    if if_none_match:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "ETag(s) from an earlier answer, or `*`: 304 when still current",
            }
        )
    return {"parameters": parameters}
