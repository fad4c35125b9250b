"""`one_of(column, name)`: the column's value is one of a list given at run time.

One statement for both backends, each in its own form:

- PostgreSQL: `column = ANY(:name)`, the list sent as one array parameter, so the SQL is
  the same whatever the list's length and can be compiled once (`core.direct`);
- elsewhere (SQLite): `column IN (:name_1, :name_2, …)`, SQLAlchemy's expanding parameter.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class OneOf(ColumnElement[bool]):
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name
        self.type = Boolean()


def one_of(column: ColumnElement[Any], name: str) -> OneOf:
    """`column` is one of the list given as the parameter `name` (an empty list: none)."""
    return OneOf(column, name)


@compiles(OneOf)
def _expanding_in(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(OneOf, "postgresql")
def _equals_any(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    array = bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(array), **kw)
