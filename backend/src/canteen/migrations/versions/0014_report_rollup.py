"""report rollup: the figures of each closed local day per group (issue 18), and a partial
index for the uncollected count, which is read live

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from canteen.core.db import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_WAITING = sa.text("status IN ('ready', 'not_collected')")


def upgrade() -> None:
    op.create_table(
        "report_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_report_days")),
    )
    op.create_table(
        "report_day_rollup",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("grp", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revenue_upi", sa.BigInteger(), nullable=False),
        sa.Column("revenue_cash", sa.BigInteger(), nullable=False),
        sa.Column("ready", sa.Integer(), nullable=False),
        sa.Column("prep_seconds", sa.Float(), nullable=False),
        sa.Column("p90_prep", sa.Float(), nullable=True),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "grp", "key", name=op.f("pk_report_day_rollup")),
    )
    # Orders still waiting at the counter (or moved to not_collected) are few: the live
    # uncollected count reads only them (from the index alone, by day or hour).
    op.create_index(
        "ix_orders_waiting_ready_at",
        "orders",
        ["ready_at", "status"],
        postgresql_where=_WAITING,
        sqlite_where=_WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_orders_waiting_ready_at", table_name="orders")
    op.drop_table("report_day_rollup")
    op.drop_table("report_days")
