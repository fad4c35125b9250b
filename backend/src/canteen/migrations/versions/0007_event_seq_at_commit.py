"""events: take `seq` at commit (PostgreSQL), so the event-log lock lasts only the commit

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 19:25:00

`seq` must be commit order: a reader that has seen seq N has seen every event below N (SSE
replay resumes from it). Writers used to take an advisory lock when recording an event and
hold it, through the rest of their transaction, to commit. Now a deferred constraint
trigger gives each new event its final `seq` while the transaction commits, under the same
lock: it is held only for the commit itself. SQLite needs none of this (its writers are
serialised already).
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE FUNCTION events_take_seq_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Held until this transaction's commit completes: seq values are handed out in
    -- commit order. Every value comes from the column's own sequence, so the temporary
    -- one given at INSERT (never visible to another transaction) cannot collide.
    PERFORM pg_advisory_xact_lock(7200001);  -- canteen.events.service.EVENT_LOG_LOCK
    UPDATE events SET seq = nextval(pg_get_serial_sequence('events', 'seq'))
     WHERE id = NEW.id;
    RETURN NULL;
END
$$
"""

TRIGGER = """
CREATE CONSTRAINT TRIGGER events_seq_at_commit
    AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION events_take_seq_at_commit()
"""

DOWNGRADE = (
    "DROP TRIGGER IF EXISTS events_seq_at_commit ON events",
    "DROP FUNCTION IF EXISTS events_take_seq_at_commit()",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(UPGRADE)  # one statement per call: the driver prepares each
        op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
