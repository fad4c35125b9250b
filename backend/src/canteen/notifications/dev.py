"""Development push: log each notification and keep it in the dev outbox.

`GET /api/v1/dev/outbox?channel=push` then shows exactly what FCM would have been
asked to deliver: the notification and the data map of design §9.3.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from canteen.dev.models import DevOutboxMessage
from canteen.notifications.push import PushMessage, PushResult

log = logging.getLogger("canteen.push.dev")


class DevPushProvider:
    name = "dev"

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def send_many(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        if not messages:
            return []
        results: list[PushResult] = []
        async with self.sessionmaker() as session, session.begin():
            for message in messages:
                message_id = uuid.uuid4()
                log.warning(
                    "push to %s…: %s: %s %s",
                    message.token[:12],
                    message.title,
                    message.body,
                    message.data,
                )
                session.add(
                    DevOutboxMessage(
                        id=message_id,
                        channel="push",
                        to=message.token,
                        body=f"{message.title}: {message.body}",
                        payload={
                            "notification": {"title": message.title, "body": message.body},
                            "data": dict(message.data),
                        },
                    )
                )
                results.append(PushResult(token=message.token, ok=True, message_id=str(message_id)))
        return results
