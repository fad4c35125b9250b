from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from canteen.core.jobs import RetryableJobError, job
from canteen.sms.base import SmsError, SmsMessage

if TYPE_CHECKING:
    from canteen.core.container import Container

# A sign-in text lives 5 minutes and every new code is a new text, so the same text to
# the same phone within 10 minutes is the same message sent again by a second run.
SENT_TTL_SECONDS = 600
# Longer than a provider call (10 s timeout): a run killed mid-send frees the claim after
# this, and the job's retry then sends (at least once; twice only if the provider got the
# first just before the kill).
SENDING_TTL_SECONDS = 20


@job("sms.send", max_retries=5)
async def send_sms(c: Container, *, to: str, body: str) -> None:
    """Send one text. Safe to run twice (a retry, a job redelivered after a worker was
    killed): the message is claimed before sending and marked sent after, so a second run
    sends nothing; a failed send gives the claim back for the retry."""
    claim = "sms:" + hashlib.sha256(f"{to}\n{body}".encode()).hexdigest()
    if not await c.kv.set(claim, "sending", SENDING_TTL_SECONDS, nx=True):
        if await c.kv.get(claim) == b"sent":
            return
        raise RetryableJobError("another run is sending this text")
    try:
        await c.sms.send(SmsMessage(to=to, body=body))
    except BaseException as exc:
        await c.kv.delete(claim)
        if isinstance(exc, SmsError) and exc.retryable:
            raise RetryableJobError(str(exc)) from exc
        raise
    await c.kv.set(claim, "sent", SENT_TTL_SECONDS)
