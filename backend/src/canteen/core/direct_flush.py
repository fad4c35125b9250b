"""A flush of changed columns as one direct UPDATE per object (issue 20).

An order change (the kitchen's status, a payment captured, a cancel) changes a few columns
of one or two rows the request has already locked. The ORM's unit of work spends about
half a millisecond of CPU to write them (sorting its dependency graph, building each
statement's parameters, compiling, bookkeeping), more than the UPDATE itself costs
PostgreSQL. `flush_changes` writes such changes as the ORM would (the same columns, the
same Python `onupdate` values, a row that was not there raised as `StaleDataError`), by
statements compiled once per set of columns and run on the direct path
(`canteen.core.direct`), and then marks the objects written, as the flush does.

Anything it cannot write faithfully goes to the ORM's flush, whole: a new or deleted
object, a changed relationship or collection, an expired or not loaded attribute, a
changed primary key, a mapper with a version counter or inheritance, a server-side
`onupdate` or a SQL expression as `onupdate`.

A change is usually followed by a row that records it (an order's event): `then_insert`
writes that row after the flush, and on PostgreSQL, when the flush is one UPDATE, in the
same statement (`WITH changed AS (UPDATE … RETURNING key) INSERT … SELECT … FROM changed`):
one round trip fewer while the changed row is locked. The row is inserted only if the
UPDATE found its row, as when the UPDATE raises first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.base import NO_VALUE, instance_state
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.state import InstanceState
from sqlalchemy.sql import Update

from canteen.core.direct import DirectStatement, writes_in_one_with


class _Updates:
    """The direct UPDATEs of one mapped class, one statement per set of changed columns."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        table = mapper.local_table
        assert isinstance(table, Table)
        self.table = table
        self.rank = table.metadata.sorted_tables.index(table)  # parents' tables first
        self._pk: tuple[ColumnElement[Any], ...] = tuple(mapper.primary_key)  # the key's order
        self._columns: dict[str, Column[Any]] = {}
        # Columns the ORM sets on every UPDATE that does not set them itself.
        self._onupdate: dict[str, Callable[[], Any]] = {}
        self.eligible = mapper.version_id_col is None and mapper.inherits is None
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            if (
                len(prop.columns) != 1
                or not isinstance(column, Column)
                or column.table is not table
            ):
                continue
            self._columns[prop.key] = column
            if column.server_onupdate is not None:
                self.eligible = False
            make = _onupdate(column)
            if make is not None:
                self._onupdate[prop.key] = make
            elif column.onupdate is not None:
                self.eligible = False
        self._statements: dict[tuple[str, ...], DirectStatement] = {}
        self._with_insert: dict[tuple[Any, ...], DirectStatement] = {}

    def changes(self, state: InstanceState[Any]) -> dict[str, Any] | None:
        """The new value of each changed column (and the `onupdate` ones), {} if nothing
        changed after all, or None if the ORM's flush must write this object."""
        if not self.eligible or state.key is None or state.deleted:
            return None
        changed: dict[str, Any] = {}
        for key, old in state.committed_state.items():
            column = self._columns.get(key)
            if column is None or column.primary_key or key not in state.dict:
                return None  # not a plain column (a new key moves the identity: the ORM's)
            new = state.dict[key]
            if old is NO_VALUE or not column.type.compare_values(old, new):
                changed[key] = new
        if changed:
            for key, make in self._onupdate.items():
                if key not in changed:
                    changed[key] = make()
        return changed

    def _update(self, keys: tuple[str, ...]) -> Update:
        """`UPDATE … SET <keys> WHERE <primary key> RETURNING <its first column>`."""
        return (
            update(self.table)
            .where(
                *(
                    column == bindparam(f"pk_{i}", type_=column.type)
                    for i, column in enumerate(self._pk)
                )
            )
            .values(
                {
                    self._columns[key]: bindparam(f"set_{key}", type_=self._columns[key].type)
                    for key in keys
                }
            )
            .returning(self._pk[0])
        )

    def _params(self, state: InstanceState[Any], values: dict[str, Any]) -> dict[str, Any]:
        assert state.key is not None
        params = {f"set_{key}": value for key, value in values.items()}
        params.update({f"pk_{i}": value for i, value in enumerate(state.key[1])})
        return params

    async def write(
        self, session: AsyncSession, state: InstanceState[Any], values: dict[str, Any]
    ) -> None:
        keys = tuple(sorted(values))
        statement = self._statements.get(keys)
        if statement is None:
            statement = self._statements[keys] = DirectStatement(self._update(keys))
        if await statement.scalar(session, self._params(state, values)) is None:
            raise self._stale()

    async def write_then_insert(
        self,
        session: AsyncSession,
        state: InstanceState[Any],
        values: dict[str, Any],
        table: Table,
        row: Mapping[str, Any],
    ) -> None:
        """The UPDATE and the INSERT of `row` into `table`, one statement (PostgreSQL's
        data-modifying WITH): the row is inserted only from the UPDATE's returned key."""
        keys, row_keys = tuple(sorted(values)), tuple(row)
        cache_key = (keys, table.name, row_keys)
        statement = self._with_insert.get(cache_key)
        if statement is None:
            changed = self._update(keys).cte("changed")
            inserted = (
                insert(table)
                .from_select(
                    list(row_keys),
                    select(
                        *(bindparam(f"row_{key}", type_=table.c[key].type) for key in row_keys)
                    ).select_from(changed),
                )
                .cte("inserted")
            )
            statement = self._with_insert[cache_key] = DirectStatement(
                select(changed.c[0]).add_cte(inserted)
            )
        params = self._params(state, values)
        params.update({f"row_{key}": value for key, value in row.items()})
        if await statement.scalar(session, params) is None:
            raise self._stale()

    def _stale(self) -> StaleDataError:
        return StaleDataError(
            f"UPDATE statement on table '{self.table.name}' expected to update 1 row(s); "
            "0 were matched."
        )


def _onupdate(column: Column[Any]) -> Callable[[], Any] | None:
    """The column's Python `onupdate` as a function of no arguments, or None if it has
    none or it is not one (a SQL expression, or a function of the execution context)."""
    default: Any = column.onupdate
    if default is None:
        return None
    if default.is_scalar:
        value = default.arg
        return lambda: value
    # SQLAlchemy wraps a function of no arguments to take the context; the wrapped one.
    wrapped: Callable[[], Any] | None = getattr(default.arg, "__wrapped__", None)
    return wrapped if default.is_callable else None


_UPDATES: dict[Mapper[Any], _Updates] = {}


def _updates_of(mapper: Mapper[Any]) -> _Updates:
    updates = _UPDATES.get(mapper)
    if updates is None:
        updates = _UPDATES[mapper] = _Updates(mapper)
    return updates


async def flush_changes(
    session: AsyncSession,
    *,
    then_insert: tuple[DirectStatement, Mapping[str, Any]] | None = None,
) -> None:
    """`session.flush()`, with changed columns of the objects the session holds written
    as one direct UPDATE each when that is all there is to write (see the module's note).
    `then_insert`: an INSERT of one table (`insert(table)`) and the row it is run with,
    after the flush."""
    plans = await _direct_plans(session)
    writes = [plan for plan in plans if plan[2]] if plans is not None else []
    if then_insert is not None and len(writes) == 1 and writes_in_one_with(session):
        updates, state, values = writes[0]
        statement, row = then_insert
        table = getattr(statement.statement, "table", None)
        assert isinstance(table, Table), "then_insert takes an INSERT of one table"
        await updates.write_then_insert(session, state, values, table, row)
        _mark_written(session, plans or [])
        return
    for updates, state, values in writes:
        await updates.write(session, state, values)
    if plans is not None:
        _mark_written(session, plans)
    if then_insert is not None:
        statement, row = then_insert
        await statement.execute(session, row)


async def _direct_plans(
    session: AsyncSession,
) -> list[tuple[_Updates, InstanceState[Any], dict[str, Any]]] | None:
    """The direct UPDATEs to make, in the unit of work's order; None once the ORM's
    flush has written everything instead."""
    sync = session.sync_session
    if sync.new or sync.deleted:
        await session.flush()
        return None
    plans: list[tuple[_Updates, InstanceState[Any], dict[str, Any]]] = []
    for obj in sync.dirty:
        state: InstanceState[Any] = instance_state(obj)
        updates = _updates_of(state.mapper)
        values = updates.changes(state)
        if values is None:
            await session.flush()
            return None
        plans.append((updates, state, values))
    # The unit of work's order: parents' tables first, then each table's rows by key.
    plans.sort(key=lambda plan: (plan[0].rank, str(plan[1].key)))
    return plans


def _mark_written(
    session: AsyncSession, plans: list[tuple[_Updates, InstanceState[Any], dict[str, Any]]]
) -> None:
    identity_map = session.sync_session.identity_map
    for _updates, state, values in plans:
        state.dict.update(values)
        state._commit_all(state.dict, identity_map)  # written, as after a flush
