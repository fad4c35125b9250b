"""catalogue version: staff menu edits only, for the order catalogue cache

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("canteen_config", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("catalogue_version", sa.Integer(), server_default="1", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("canteen_config", schema=None) as batch_op:
        batch_op.drop_column("catalogue_version")
