"""Request fields take JSON's own types (issue 13: the schema must say what is accepted).

Pydantic's lax mode turns `0`/`1` into booleans, and `false` or `"5"` into integers, so the
API accepted bodies its own schema refuses. Request models use these instead of bare
`bool`/`int`. Whole floats (`5.0`) stay accepted as integers: JSON Schema counts them as
integers and clients in languages without integers send them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool
from pydantic_core import PydanticCustomError


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer, not a boolean")
    if isinstance(value, str):
        # The issue name pydantic gives text that is not a number, which clients know.
        raise PydanticCustomError("int_parsing", "Input should be a valid integer, not text")
    return value


JsonInt = BeforeValidator(_json_integer)
"""Annotate an `int` request field with this, after its constraints:
`Annotated[int, Field(ge=0), JsonInt]` (placed before them, pydantic writes the constraints
into the JSON schema as unknown `ge`/`le` keys instead of minimum/maximum)."""


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE.match(value):
        # Lax parsing would read "0" as 1970-01-01 (a Unix timestamp).
        raise PydanticCustomError("date_parsing", "Give the date as YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
IsoDate = BeforeValidator(_iso_date)
"""Annotate a `date` parameter with this: only `YYYY-MM-DD`, as `format: date` says."""

Bool = StrictBool
Int = Annotated[int, JsonInt]


# A host name or an IPv4 address: what a printer on the kitchen's network answers to.
HOST_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"
_HOST = re.compile(HOST_PATTERN)


def _host_name(value: str) -> str:
    # The schema keeps the pattern; the person at the form gets words, not a regex.
    if not _HOST.fullmatch(value):
        raise PydanticCustomError(
            "string_pattern_mismatch",
            "Give a host name or an IPv4 address, such as 10.0.0.7 or kitchen-printer",
        )
    return value


HostName = Annotated[
    str,
    Field(max_length=253, json_schema_extra={"pattern": HOST_PATTERN}),
    AfterValidator(_host_name),
]
"""A printer's host: letters, digits, dots and hyphens, neither first nor last a dot or hyphen."""
