"""kitchen stations: stations, an item's station, per-line done marks (issue 17, part 3)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import canteen.core.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_stations()
    _add_item_station()
    _create_line_marks()
    _create_floor_settings()


def downgrade() -> None:
    op.drop_table("floor_settings")
    op.drop_table("order_line_marks")
    with op.batch_alter_table("menu_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_menu_items_station_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_menu_items_station_id_stations"), type_="foreignkey"
        )
        batch_op.drop_column("station_id")
    op.drop_table("stations")


def _create_stations() -> None:
    op.create_table(
        "stations",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", canteen.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", canteen.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
        sa.UniqueConstraint("name", name=op.f("uq_stations_name")),
    )


def _add_item_station() -> None:
    # SQLite rebuilds the table for the foreign key (batch mode).
    with op.batch_alter_table("menu_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("station_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_menu_items_station_id"), ["station_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_menu_items_station_id_stations"),
            "stations",
            ["station_id"],
            ["id"],
            ondelete="SET NULL",
        )


def _create_line_marks() -> None:
    op.create_table(
        "order_line_marks",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("done_at", canteen.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_line_marks_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "position", name=op.f("pk_order_line_marks")),
    )


def _create_floor_settings() -> None:
    op.create_table(
        "floor_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("auto_ready", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_floor_settings_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_floor_settings")),
    )
