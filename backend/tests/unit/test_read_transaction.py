"""core.db.end_read_transaction (issue 15): the image upload ends authentication's read
transaction before waiting for the body, through this one helper instead of a commit in
the endpoint. On real SQLite, where every transaction is a writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from canteen.core.db import end_read_transaction, make_engine, make_sessionmaker
from canteen.dev.models import DevOutboxMessage


@pytest.fixture
async def sessions(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'read.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(DevOutboxMessage.__table__.create)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_a_read_transaction_ends_and_frees_the_database_for_writers(sessions):
    async with sessions() as reader:
        await reader.execute(text("SELECT 1"))
        assert reader.in_transaction()
        await end_read_transaction(reader)
        assert not reader.in_transaction()
        # The lock is free: another session writes at once (it would wait 30 s otherwise).
        async with sessions() as writer:
            writer.add(DevOutboxMessage(channel="sms", to="+919876543210", body="x"))
            await writer.commit()
        assert await reader.scalar(select(func.count()).select_from(DevOutboxMessage)) == 1


async def test_a_session_with_changes_is_refused_and_nothing_is_written(sessions):
    async with sessions() as session:
        session.add(DevOutboxMessage(channel="sms", to="+919876543210", body="half a request"))
        with pytest.raises(RuntimeError, match="unflushed changes"):
            await end_read_transaction(session)
        await session.rollback()
    async with sessions() as check:
        assert await check.scalar(select(func.count()).select_from(DevOutboxMessage)) == 0
