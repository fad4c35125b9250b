"""job marks (done-once marks for jobs, committed with their effect); an index for the
sweep that applies stored webhooks left unapplied

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from canteen.core.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_marks",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_job_marks")),
    )
    # Only unapplied events are indexed: the sweep's query stays small as the table grows.
    op.create_index(
        "ix_webhook_events_unapplied",
        "webhook_events",
        ["received_at"],
        postgresql_where=sa.text("processed_at IS NULL"),
        sqlite_where=sa.text("processed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_events_unapplied", table_name="webhook_events")
    op.drop_table("job_marks")
