"""each station's own kitchen printer (issue 17, part 7): null keeps the canteen's

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("printer_host", sa.String(253), nullable=True))
        batch_op.add_column(sa.Column("printer_port", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_column("printer_port")
        batch_op.drop_column("printer_host")
