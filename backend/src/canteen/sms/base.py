"""Provider-neutral types shared by the SMS adapters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164, e.g. "+919876543210"
    body: str


@dataclass(frozen=True)
class SmsResult:
    provider: str
    provider_message_id: str | None


class SmsError(Exception):
    """A failed send.

    `retryable` tells the caller whether trying again (later, or with another provider)
    can succeed: throttling, provider outages and network failures are retryable;
    rejected credentials, numbers or templates are not.
    """

    def __init__(self, message: str, *, retryable: bool, provider_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.provider_code = provider_code

    def __repr__(self) -> str:
        return (
            f"SmsError({self.message!r}, retryable={self.retryable!r}, "
            f"provider_code={self.provider_code!r})"
        )


class SmsProvider(Protocol):
    name: str

    async def send(self, message: SmsMessage) -> SmsResult: ...
