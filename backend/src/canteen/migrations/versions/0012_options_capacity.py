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
    _capacity_up()
    _noshow_up()


def downgrade() -> None:
    _noshow_down()
    _capacity_down()
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


def _noshow_up() -> None:
    """No-shows (part 4): each customer's count and the canteen's window and cash limit.
    Order status is a plain string column (0004), so `not_collected` needs no type change."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("no_show_count", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    with op.batch_alter_table("canteen_config", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "collection_window_minutes",
                sa.Integer(),
                server_default=sa.text("30"),
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("no_show_cash_limit", sa.Integer(), nullable=True))


def _noshow_down() -> None:
    with op.batch_alter_table("canteen_config", schema=None) as batch_op:
        batch_op.drop_column("no_show_cash_limit")
        batch_op.drop_column("collection_window_minutes")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("no_show_count")


def _capacity_up() -> None:
    """Kitchen capacity per window and measured stage times (parts 2 and 3)."""
    op.create_table(
        "kitchen_slot_capacity",
        sa.Column("slot_code", sa.String(length=32), nullable=False),
        sa.Column("minutes_per_window", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "minutes_per_window > 0", name=op.f("ck_kitchen_slot_capacity_positive")
        ),
        sa.PrimaryKeyConstraint("slot_code", name=op.f("pk_kitchen_slot_capacity")),
    )
    op.create_table(
        "kitchen_windows",
        sa.Column("slot_code", sa.String(length=32), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint("used_minutes >= 0", name=op.f("ck_kitchen_windows_not_negative")),
        sa.PrimaryKeyConstraint("slot_code", "window_start", name=op.f("pk_kitchen_windows")),
    )
    op.create_table(
        "kitchen_item_timings",
        sa.Column("menu_item_id", sa.Uuid(), nullable=False),
        sa.Column("wait_seconds", sa.Float(), nullable=False),
        sa.Column("cook_seconds", sa.Float(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("menu_item_id", name=op.f("pk_kitchen_item_timings")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pickup_window_start", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("pickup_window_end", sa.DateTime(timezone=True)))
        batch_op.add_column(
            sa.Column("window_minutes", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("preparing_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("promised_ready_at", sa.DateTime(timezone=True)))


def _capacity_down() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("promised_ready_at")
        batch_op.drop_column("preparing_at")
        batch_op.drop_column("window_minutes")
        batch_op.drop_column("pickup_window_end")
        batch_op.drop_column("pickup_window_start")
    op.drop_table("kitchen_item_timings")
    op.drop_table("kitchen_windows")
    op.drop_table("kitchen_slot_capacity")
