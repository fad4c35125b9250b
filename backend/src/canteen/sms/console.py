"""Development SMS: log the message and keep it in the dev outbox (GET /api/v1/dev/outbox)."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from canteen.dev.models import DevOutboxMessage
from canteen.sms.base import SmsMessage, SmsResult

log = logging.getLogger("canteen.sms.console")


class ConsoleSmsProvider:
    name = "console"

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def send(self, message: SmsMessage) -> SmsResult:
        log.warning("SMS to %s: %s", message.to, message.body)
        message_id = uuid.uuid4()
        async with self.sessionmaker() as session, session.begin():
            session.add(
                DevOutboxMessage(id=message_id, channel="sms", to=message.to, body=message.body)
            )
        return SmsResult(provider=self.name, provider_message_id=str(message_id))
