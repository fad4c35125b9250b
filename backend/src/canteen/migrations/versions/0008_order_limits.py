"""order limits and the "order ready" SMS switch on the canteen settings row; who
cancelled an order

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("canteen_config", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_items_per_order", sa.Integer(), server_default="20", nullable=False)
        )
        batch_op.add_column(
            sa.Column("max_order_total", sa.Integer(), server_default="200000", nullable=False)
        )
        batch_op.add_column(
            sa.Column("ready_sms_enabled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_by", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("cancelled_by")
    with op.batch_alter_table("canteen_config", schema=None) as batch_op:
        batch_op.drop_column("ready_sms_enabled")
        batch_op.drop_column("max_order_total")
        batch_op.drop_column("max_items_per_order")
