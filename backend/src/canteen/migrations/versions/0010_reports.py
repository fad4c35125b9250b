"""reports: indexes (and any rollup) that the manager's dashboard and reports read (issue 18)

Every report figure is counted on its own moment (placed, captured, handed over, refunded,
ready, cancelled, rated) over a range of days, so each of those moments is indexed: a day
or a year reads only its rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_orders_created_at", "orders", "created_at"),
    ("ix_orders_ready_at", "orders", "ready_at"),
    ("ix_orders_completed_at", "orders", "completed_at"),
    ("ix_orders_cancelled_at", "orders", "cancelled_at"),
    ("ix_orders_feedback_at", "orders", "feedback_at"),
    ("ix_payments_captured_at", "payments", "captured_at"),
    ("ix_refunds_created_at", "refunds", "created_at"),
]


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
