"""orders

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:18:42.842530
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import canteen.core.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_order_day_counters()
    _create_orders()
    _create_order_items()


# One helper per table; the operations and their order are Alembic's.


def _create_order_day_counters() -> None:
    op.create_table(
        "order_day_counters",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("business_date", name=op.f("pk_order_day_counters")),
    )


def _create_orders() -> None:
    op.create_table(
        "orders",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("daily_seq", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("payment_method", sa.String(length=8), nullable=False),
        sa.Column("payment_status", sa.String(length=16), nullable=False),
        sa.Column("order_type", sa.String(length=16), nullable=False),
        sa.Column("delivery_address", sa.Text(), nullable=True),
        sa.Column("time_slot", sa.String(length=32), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("subtotal", sa.Integer(), nullable=False),
        sa.Column("delivery_fee", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("pickup_code", sa.String(length=4), nullable=False),
        sa.Column("prep_minutes", sa.Integer(), nullable=False),
        sa.Column("estimated_ready_at", canteen.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivery_staff_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("confirmed_at", canteen.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ready_at", canteen.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", canteen.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", canteen.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("feedback_rating", sa.SmallInteger(), nullable=True),
        sa.Column("feedback_comment", sa.Text(), nullable=True),
        sa.Column("feedback_at", canteen.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", canteen.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", canteen.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total >= 0", name=op.f("ck_orders_total_not_negative")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["users.id"], name=op.f("fk_orders_customer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["delivery_staff_id"], ["users.id"], name=op.f("fk_orders_delivery_staff_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("business_date", "daily_seq", name="uq_orders_business_date_seq"),
        sa.UniqueConstraint(
            "customer_id", "idempotency_key", name="uq_orders_customer_idempotency"
        ),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_orders_delivery_staff_id"), ["delivery_staff_id"], unique=False
        )
        batch_op.create_index("ix_orders_status_created", ["status", "created_at"], unique=False)


def _create_order_items() -> None:
    op.create_table(
        "order_items",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("menu_item_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.SmallInteger(), nullable=False),
        sa.Column("line_total", sa.Integer(), nullable=False),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.Column("prep_minutes", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_items_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
    )
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_items_menu_item_id"), ["menu_item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_order_items_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_items_order_id"))
        batch_op.drop_index(batch_op.f("ix_order_items_menu_item_id"))

    op.drop_table("order_items")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_status_created")
        batch_op.drop_index(batch_op.f("ix_orders_delivery_staff_id"))
        batch_op.drop_index(batch_op.f("ix_orders_customer_id"))

    op.drop_table("orders")
    op.drop_table("order_day_counters")
    # ### end Alembic commands ###
