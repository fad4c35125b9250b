from __future__ import annotations

from typing import TYPE_CHECKING

from canteen.core.jobs import RetryableJobError, job
from canteen.sms.base import SmsError, SmsMessage

if TYPE_CHECKING:
    from canteen.core.container import Container


@job("sms.send", max_retries=5)
async def send_sms(c: Container, *, to: str, body: str) -> None:
    try:
        await c.sms.send(SmsMessage(to=to, body=body))
    except SmsError as exc:
        if exc.retryable:
            raise RetryableJobError(str(exc)) from exc
        raise
