"""menu options, kitchen capacity windows, no-shows (issue 16)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _options_up()


def downgrade() -> None:
    _options_down()


def _options_up() -> None:
    """Option groups on dishes and the chosen options on order lines (part 1)."""
    with op.batch_alter_table("menu_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("option_groups", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("options", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )


def _options_down() -> None:
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_column("options")
    with op.batch_alter_table("menu_items", schema=None) as batch_op:
        batch_op.drop_column("option_groups")
