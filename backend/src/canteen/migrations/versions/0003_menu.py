"""menu, time slots, canteen settings

Also writes the settings row (id 1) and the four usual serving windows, so a fresh
canteen can create items at once; the admin edits or deactivates them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:16:37.007392
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time

import sqlalchemy as sa
from alembic import op

import canteen.core.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_canteen_config()
    _create_menu_categories()
    _create_time_slots()
    _create_menu_items()
    _create_menu_item_slots()
    _seed_config()
    _seed_time_slots()


# One helper per table, then the seed rows; the operations and their order are Alembic's.


def _create_canteen_config() -> None:
    op.create_table(
        "canteen_config",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("delivery_enabled", sa.Boolean(), nullable=False),
        sa.Column("cash_payment_enabled", sa.Boolean(), nullable=False),
        sa.Column("upi_payment_enabled", sa.Boolean(), nullable=False),
        sa.Column("restaurant_open", sa.Boolean(), nullable=False),
        sa.Column("ordering_paused", sa.Boolean(), nullable=False),
        sa.Column("delivery_fee", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("menu_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", canteen.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "delivery_fee >= 0", name=op.f("ck_canteen_config_delivery_fee_not_negative")
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_canteen_config_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canteen_config")),
    )


def _create_menu_categories() -> None:
    op.create_table(
        "menu_categories",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", canteen.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", canteen.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_menu_categories")),
    )


def _create_time_slots() -> None:
    op.create_table(
        "time_slots",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_time_slots_end_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_slots")),
        sa.UniqueConstraint("code", name=op.f("uq_time_slots_code")),
    )


def _create_menu_items() -> None:
    op.create_table(
        "menu_items",
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("diet", sa.String(length=16), nullable=False),
        sa.Column("allergens", sa.JSON(), nullable=False),
        sa.Column("image_url", sa.String(length=1024), nullable=True),
        sa.Column("thumbnail_url", sa.String(length=1024), nullable=True),
        sa.Column("image_keys", sa.JSON(), nullable=False),
        sa.Column("is_available", sa.Boolean(), nullable=False),
        sa.Column("prep_minutes", sa.Integer(), nullable=False),
        sa.Column("daily_stock", sa.Integer(), nullable=True),
        sa.Column("stock_remaining", sa.Integer(), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", canteen.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", canteen.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "daily_stock IS NULL OR daily_stock >= 0",
            name=op.f("ck_menu_items_daily_stock_not_negative"),
        ),
        sa.CheckConstraint(
            "prep_minutes >= 0", name=op.f("ck_menu_items_prep_minutes_not_negative")
        ),
        sa.CheckConstraint("price > 0", name=op.f("ck_menu_items_price_positive")),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["menu_categories.id"],
            name=op.f("fk_menu_items_category_id_menu_categories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_menu_items")),
    )
    with op.batch_alter_table("menu_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_menu_items_category_id"), ["category_id"], unique=False
        )


def _create_menu_item_slots() -> None:
    op.create_table(
        "menu_item_slots",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("slot_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["menu_items.id"],
            name=op.f("fk_menu_item_slots_item_id_menu_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["time_slots.id"],
            name=op.f("fk_menu_item_slots_slot_id_time_slots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "slot_id", name=op.f("pk_menu_item_slots")),
    )
    with op.batch_alter_table("menu_item_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_menu_item_slots_slot_id"), ["slot_id"], unique=False)


def _seed_config() -> None:
    config = sa.table(
        "canteen_config",
        sa.column("id", sa.Integer()),
        sa.column("delivery_enabled", sa.Boolean()),
        sa.column("cash_payment_enabled", sa.Boolean()),
        sa.column("upi_payment_enabled", sa.Boolean()),
        sa.column("restaurant_open", sa.Boolean()),
        sa.column("ordering_paused", sa.Boolean()),
        sa.column("delivery_fee", sa.Integer()),
        sa.column("currency", sa.String()),
        sa.column("menu_version", sa.Integer()),
        sa.column("updated_at", canteen.core.db.UTCDateTime(timezone=True)),
    )
    op.bulk_insert(
        config,
        [
            {
                "id": 1,
                "delivery_enabled": True,
                "cash_payment_enabled": True,
                "upi_payment_enabled": True,
                "restaurant_open": True,
                "ordering_paused": False,
                "delivery_fee": 2000,
                "currency": "INR",
                "menu_version": 1,
                "updated_at": datetime.now(UTC),
            }
        ],
    )


def _seed_time_slots() -> None:
    slots = sa.table(
        "time_slots",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("label", sa.String()),
        sa.column("start_time", sa.Time()),
        sa.column("end_time", sa.Time()),
        sa.column("is_active", sa.Boolean()),
        sa.column("sort_order", sa.Integer()),
    )
    op.bulk_insert(
        slots,
        [
            {
                "id": uuid.uuid4(),
                "code": code,
                "label": label,
                "start_time": start,
                "end_time": end,
                "is_active": True,
                "sort_order": n,
            }
            for n, (code, label, start, end) in enumerate(
                [
                    ("breakfast", "Breakfast", time(7, 30), time(10, 30)),
                    ("lunch", "Lunch", time(12, 0), time(15, 0)),
                    ("snacks", "Evening snacks", time(16, 0), time(18, 30)),
                    ("dinner", "Dinner", time(19, 30), time(22, 0)),
                ]
            )
        ],
    )


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("menu_item_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_menu_item_slots_slot_id"))

    op.drop_table("menu_item_slots")
    with op.batch_alter_table("menu_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_menu_items_category_id"))

    op.drop_table("menu_items")
    op.drop_table("time_slots")
    op.drop_table("menu_categories")
    op.drop_table("canteen_config")
    # ### end Alembic commands ###
