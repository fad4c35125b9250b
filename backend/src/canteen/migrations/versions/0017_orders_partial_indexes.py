"""orders: the indexes of moments that most orders have not reached are partial (issue 20)

`ready_at`, `completed_at`, `cancelled_at`, `feedback_at`, `cash_collected_at` and
`delivery_staff_id` are NULL when an order is placed, and most stay NULL for most of its
life (a cancel, a rating, a delivery are the exception). Indexed whole, every placement
wrote a NULL entry into each of the six, and the placement's `UPDATE` (its number and
window, not a HOT update) wrote six more. Partial (`WHERE ... IS NOT NULL`), an entry is
written when the moment happens. Every query that reads them filters on the column with a
comparison (`>=`, `<`, `=`), which implies `IS NOT NULL` to both PostgreSQL's and SQLite's
planners, so each still uses its index (`test_partial_indexes.py` checks the plans).

`ix_orders_customer_id` goes: `uq_orders_customer_idempotency` (customer_id,
idempotency_key) leads with the same column and serves every look-up by customer.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

PARTIAL = [
    "ready_at",
    "completed_at",
    "cancelled_at",
    "feedback_at",
    "cash_collected_at",
    "delivery_staff_id",
]


def _not_null(column: str) -> sa.TextClause:
    return sa.text(f"{column} IS NOT NULL")


def upgrade() -> None:
    for column in PARTIAL:
        name = f"ix_orders_{column}"
        op.drop_index(name, table_name="orders")
        op.create_index(
            name,
            "orders",
            [column],
            postgresql_where=_not_null(column),
            sqlite_where=_not_null(column),
        )
    op.drop_index("ix_orders_customer_id", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    for column in reversed(PARTIAL):
        name = f"ix_orders_{column}"
        op.drop_index(name, table_name="orders")
        op.create_index(name, "orders", [column])
