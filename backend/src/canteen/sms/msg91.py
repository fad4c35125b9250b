"""MSG91 adapter: sends the OTP text as a DLT-approved templated SMS via the Flow API."""

from __future__ import annotations

from typing import Any

import httpx

from canteen.sms.base import SmsError, SmsMessage, SmsResult


class Msg91SmsProvider:
    name = "msg91"

    def __init__(
        self,
        auth_key: str,
        template_id: str,
        *,
        base_url: str = "https://control.msg91.com",
        timeout: float = 10.0,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._auth_key = auth_key
        self._template_id = template_id
        self._url = base_url.rstrip("/") + "/api/v5/flow"
        self._timeout = timeout

    async def send(self, message: SmsMessage) -> SmsResult:
        # MSG91 wants the number as country code + subscriber number, without '+'.
        mobile = message.to.removeprefix("+")
        if not message.to.startswith("+") or not mobile.isdigit():
            raise SmsError(f"msg91: {message.to!r} is not an E.164 number", retryable=False)
        payload = {
            "template_id": self._template_id,
            "short_url": "0",
            "recipients": [{"mobiles": mobile, "body": message.body}],
        }
        headers = {"authkey": self._auth_key, "accept": "application/json"}
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(self._url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise SmsError(f"msg91: network error: {exc!r}", retryable=True) from exc

        status = response.status_code
        if status == 429 or status >= 500:
            raise SmsError(f"msg91: HTTP {status}", retryable=True, provider_code=str(status))
        try:
            data: Any = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise SmsError(f"msg91: HTTP {status} with a non-JSON-object body", retryable=False)
        text = data.get("message")
        text = text if isinstance(text, str) else None
        # MSG91 reports logical failures (bad authkey, template, number) as HTTP 200
        # with type=error, so the decision rests on `type`, not on the status code.
        if status >= 400 or data.get("type") != "success":
            raise SmsError(
                f"msg91: HTTP {status}: {text or 'request rejected'}",
                retryable=False,
                provider_code=str(data["code"]) if "code" in data else None,
            )
        return SmsResult(provider=self.name, provider_message_id=text or None)
