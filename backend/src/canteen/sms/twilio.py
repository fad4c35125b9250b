"""Twilio Programmable Messaging adapter (official SDK, run in a worker thread)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio.to_thread
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from canteen.sms.base import SmsError, SmsMessage, SmsResult


class _RedirectingHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio is untyped
    """Sends every SDK request to `base_url` (a local stand-in) instead of *.twilio.com.

    Only scheme and host change; path, query, auth and body stay exactly as the SDK built
    them, so the stand-in sees what Twilio would.
    """

    def __init__(self, base_url: str, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        target = urlsplit(base_url)
        if not target.scheme or not target.netloc:
            raise ValueError(f"base_url must be absolute, got {base_url!r}")
        self._scheme = target.scheme
        self._netloc = target.netloc

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        rewritten = urlunsplit((self._scheme, self._netloc, parts.path, parts.query, ""))
        return super().request(method, rewritten, *args, **kwargs)


class TwilioSmsProvider:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ValueError("either from_number or messaging_service_sid is required")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        # TwilioHttpClient has no timeout by default; a hung request would pin a thread.
        http_client = (
            _RedirectingHttpClient(base_url, timeout=timeout)
            if base_url
            else TwilioHttpClient(timeout=timeout)
        )
        self._client = Client(account_sid, auth_token, http_client=http_client)

    def _create(self, message: SmsMessage) -> Any:
        kwargs: dict[str, str] = {"to": message.to, "body": message.body}
        if self._from_number:
            kwargs["from_"] = self._from_number
        if self._messaging_service_sid:
            kwargs["messaging_service_sid"] = self._messaging_service_sid
        return self._client.messages.create(**kwargs)

    async def send(self, message: SmsMessage) -> SmsResult:
        try:
            # The SDK is blocking (requests); keep it off the event loop.
            instance = await anyio.to_thread.run_sync(self._create, message)
        except TwilioRestException as exc:
            status = int(exc.status)
            code = None if exc.code is None else str(exc.code)
            raise SmsError(
                f"twilio: HTTP {status}: {exc.msg}",
                retryable=status == 429 or status >= 500,
                provider_code=code,
            ) from exc
        except requests.RequestException as exc:
            # Connection refused/reset, DNS, timeouts: the provider may be fine a moment later.
            raise SmsError(f"twilio: network error: {exc}", retryable=True) from exc
        except ValueError as exc:
            # A 2xx whose body is not the JSON message resource: the send may have happened,
            # so do not invite a blind resend.
            raise SmsError(f"twilio: unexpected response: {exc}", retryable=False) from exc
        except TwilioException as exc:
            # Client-side SDK errors (e.g. bad configuration) will not fix themselves.
            raise SmsError(f"twilio: {exc}", retryable=False) from exc
        sid = getattr(instance, "sid", None)
        return SmsResult(provider=self.name, provider_message_id=sid if sid else None)
