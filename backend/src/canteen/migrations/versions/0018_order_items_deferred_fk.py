"""order_items: the line's reference to its order is checked at commit (issue 20)

A placement writes its lines before it takes the rows every other placement waits for
(its kitchen window, the day's counter) and its order after them, complete with number and
window: one INSERT where an INSERT of a provisional row and an UPDATE were made, so one
round trip, one row version and one set of index entries fewer per order. The lines come
first, so their reference to the order can only be checked when the transaction commits:
`DEFERRABLE INITIALLY DEFERRED`, on PostgreSQL and SQLite alike. A line whose order never
arrives still fails the commit, and the whole placement with it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 12:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NAME = "fk_order_items_order_id_orders"


def _replace(**deferral: object) -> None:
    # On SQLite the batch rebuilds the table with the new constraint (no ALTER for it).
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_constraint(NAME, type_="foreignkey")
        batch_op.create_foreign_key(
            NAME, "orders", ["order_id"], ["id"], ondelete="CASCADE", **deferral
        )


def upgrade() -> None:
    _replace(deferrable=True, initially="DEFERRED")


def downgrade() -> None:
    _replace()
