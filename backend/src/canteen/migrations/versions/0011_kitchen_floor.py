"""the kitchen floor: display tokens, stations, print settings; cash collected at the
counter or the door (issue 17)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from canteen.core.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Each part of the floor keeps its own helpers (`_counter_*` for the counter and delivery
# screens); upgrade() and downgrade() only call them, in reverse order on the way down.


def upgrade() -> None:
    _counter_upgrade()
    _displays_upgrade()
    _printing_upgrade()


def downgrade() -> None:
    _printing_downgrade()
    _displays_downgrade()
    _counter_downgrade()


def _counter_upgrade() -> None:
    # Who took the cash for an order, how much and when: the cash-drawer report reads these.
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cash_collected_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("cash_collected_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("cash_collected_amount", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_cash_collected_by_users"),
            "users",
            ["cash_collected_by"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_orders_cash_collected_at"), ["cash_collected_at"], unique=False
        )


def _counter_downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_cash_collected_at"))
        batch_op.drop_constraint(
            batch_op.f("fk_orders_cash_collected_by_users"), type_="foreignkey"
        )
        batch_op.drop_column("cash_collected_amount")
        batch_op.drop_column("cash_collected_by")
        batch_op.drop_column("cash_collected_at")


def _displays_upgrade() -> None:
    # Tokens of the order-status screens; only a hash of each is kept.
    op.create_table(
        "display_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("hint", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_display_tokens_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_display_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_display_tokens_token_hash")),
    )


def _displays_downgrade() -> None:
    op.drop_table("display_tokens")


def _printing_upgrade() -> None:
    # One row: print a kitchen ticket on confirm, and the ESC/POS printer's address.
    table = op.create_table(
        "printer_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("auto_print", sa.Boolean(), nullable=False),
        sa.Column("auto_print_since", UTCDateTime(), nullable=True),
        sa.Column("printer_host", sa.String(253), nullable=True),
        sa.Column("printer_port", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_printer_settings")),
    )
    op.bulk_insert(
        table,
        [
            {
                "id": 1,
                "auto_print": False,
                "printer_host": None,
                "printer_port": 9100,
                "updated_at": datetime.now(UTC),
            }
        ],
    )


def _printing_downgrade() -> None:
    op.drop_table("printer_settings")
