"""SMS adapters against real local HTTP stand-ins (no mocking of our own code)."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator

import pytest

from canteen.sms.base import SmsError, SmsMessage, SmsProvider
from canteen.sms.msg91 import Msg91SmsProvider
from canteen.sms.twilio import TwilioSmsProvider
from canteen_testkit.standins import Msg91StandIn, TwilioStandIn

SID = "AC" + "1" * 32
TOKEN = "test-auth-token"
FROM = "+15005550006"
SERVICE_SID = "MG" + "2" * 32
TO = "+919876543210"
TEXT = "Your Canteen login code is 482913. It expires in 10 minutes."

AUTH_KEY = "msg91-test-authkey"
TEMPLATE_ID = "65f0c0ffee0123456789abcd"


@pytest.fixture
def twilio_standin() -> Iterator[TwilioStandIn]:
    with TwilioStandIn(SID, TOKEN) as standin:
        yield standin


@pytest.fixture
def msg91_standin() -> Iterator[Msg91StandIn]:
    with Msg91StandIn(AUTH_KEY, TEMPLATE_ID) as standin:
        yield standin


def closed_port_url() -> str:
    # Bind then release a port so nothing is listening on it: connects are refused.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def twilio(base_url: str, *, timeout: float = 10.0) -> TwilioSmsProvider:
    return TwilioSmsProvider(SID, TOKEN, from_number=FROM, base_url=base_url, timeout=timeout)


# --- Twilio ---------------------------------------------------------------------------


async def test_twilio_sends_exact_form_fields_with_basic_auth(
    twilio_standin: TwilioStandIn,
) -> None:
    provider: SmsProvider = twilio(twilio_standin.base_url)

    result = await provider.send(SmsMessage(to=TO, body=TEXT))

    [received] = twilio_standin.messages
    assert received.form == {"To": [TO], "From": [FROM], "Body": [TEXT]}
    assert received.auth == (SID, TOKEN)
    assert result.provider == "twilio"
    assert result.provider_message_id == received.sid
    assert re.fullmatch(r"SM[0-9a-f]{32}", received.sid)


async def test_twilio_messaging_service_sid_replaces_from(
    twilio_standin: TwilioStandIn,
) -> None:
    provider = TwilioSmsProvider(
        SID, TOKEN, messaging_service_sid=SERVICE_SID, base_url=twilio_standin.base_url
    )

    result = await provider.send(SmsMessage(to=TO, body=TEXT))

    [received] = twilio_standin.messages
    assert received.form == {"To": [TO], "MessagingServiceSid": [SERVICE_SID], "Body": [TEXT]}
    assert result.provider_message_id == received.sid


async def test_twilio_bad_credentials_is_not_retryable(twilio_standin: TwilioStandIn) -> None:
    provider = TwilioSmsProvider(
        SID, "wrong-token", from_number=FROM, base_url=twilio_standin.base_url
    )

    with pytest.raises(SmsError) as info:
        await provider.send(SmsMessage(to=TO, body=TEXT))

    assert info.value.retryable is False
    assert info.value.provider_code == "20003"
    assert twilio_standin.request_count == 1
    assert twilio_standin.messages == []


async def test_twilio_invalid_number_is_not_retryable(twilio_standin: TwilioStandIn) -> None:
    provider = twilio(twilio_standin.base_url)

    with pytest.raises(SmsError) as info:
        await provider.send(SmsMessage(to="9876543210", body=TEXT))

    assert info.value.retryable is False
    assert info.value.provider_code == "21211"
    assert "not a valid phone number" in info.value.message
    assert twilio_standin.messages == []


async def test_twilio_server_error_is_retryable(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.fail_next(
        500, {"code": 20500, "message": "Internal Server Error", "more_info": "", "status": 500}
    )
    provider = twilio(twilio_standin.base_url)

    with pytest.raises(SmsError) as info:
        await provider.send(SmsMessage(to=TO, body=TEXT))

    assert info.value.retryable is True
    assert info.value.provider_code == "20500"
    # The injected failure is used once; the retry goes through.
    result = await provider.send(SmsMessage(to=TO, body=TEXT))
    assert result.provider_message_id == twilio_standin.messages[0].sid


async def test_twilio_rate_limit_is_retryable(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.fail_next(
        429, {"code": 20429, "message": "Too Many Requests", "more_info": "", "status": 429}
    )
    provider = twilio(twilio_standin.base_url)

    with pytest.raises(SmsError) as info:
        await provider.send(SmsMessage(to=TO, body=TEXT))

    assert info.value.retryable is True
    assert info.value.provider_code == "20429"


async def test_twilio_connection_refused_is_retryable() -> None:
    provider = twilio(closed_port_url())

    with pytest.raises(SmsError) as info:
        await provider.send(SmsMessage(to=TO, body=TEXT))

    assert info.value.retryable is True
    assert info.value.provider_code is None


async def test_twilio_timeout_is_honoured_and_retryable() -> None:
    with TwilioStandIn(SID, TOKEN, delay=5.0) as standin:
        provider = twilio(standin.base_url, timeout=0.5)
        started = time.monotonic()

        with pytest.raises(SmsError) as info:
            await provider.send(SmsMessage(to=TO, body=TEXT))

        elapsed = time.monotonic() - started
        assert info.value.retryable is True
        assert 0.4 <= elapsed < 2.0
        assert standin.request_count == 1  # it connected; the read timed out


async def test_twilio_send_does_not_block_the_event_loop() -> None:
    with TwilioStandIn(SID, TOKEN, delay=0.6) as standin:
        provider = twilio(standin.base_url)
        send = asyncio.create_task(provider.send(SmsMessage(to=TO, body=TEXT)))
        await asyncio.sleep(0.05)  # let the send start
        started = time.monotonic()
        await asyncio.sleep(0.05)
        assert time.monotonic() - started < 0.3
        assert not send.done()
        await send
        assert len(standin.messages) == 1


# --- MSG91 ----------------------------------------------------------------------------


async def test_msg91_sends_templated_flow_request(msg91_standin: Msg91StandIn) -> None:
    provider: SmsProvider = Msg91SmsProvider(AUTH_KEY, TEMPLATE_ID, base_url=msg91_standin.base_url)

    result = await provider.send(SmsMessage(to=TO, body=TEXT))

    [received] = msg91_standin.messages
    assert received.authkey == AUTH_KEY
    assert received.payload == {
        "template_id": TEMPLATE_ID,
        "short_url": "0",
        "recipients": [{"mobiles": "919876543210", "body": TEXT}],
    }
    assert result.provider == "msg91"
    assert result.provider_message_id == received.request_id
    assert re.fullmatch(r"[0-9a-f]{24}", received.request_id)


async def test_msg91_logical_error_with_http_200_is_not_retryable(
    msg91_standin: Msg91StandIn,
) -> None:
    provider = Msg91SmsProvider("wrong-key", TEMPLATE_ID, base_url=msg91_standin.base_url)

    with pytest.raises(SmsError) as info:
        await provider.send(SmsMessage(to=TO, body=TEXT))

    assert info.value.retryable is False
    assert "Authentication failure" in info.value.message
    assert msg91_standin.request_count == 1
    assert msg91_standin.messages == []


async def test_msg91_wrong_template_is_not_retryable(msg91_standin: Msg91StandIn) -> None:
    provider = Msg91SmsProvider(AUTH_KEY, "not-the-template", base_url=msg91_standin.base_url)

    with pytest.raises(SmsError) as info:
        await provider.send(SmsMessage(to=TO, body=TEXT))

    assert info.value.retryable is False
    assert "Invalid template id" in info.value.message


async def test_msg91_server_error_is_retryable(msg91_standin: Msg91StandIn) -> None:
    msg91_standin.fail_next(500, {"type": "error", "message": "Internal Server Error"})
    provider = Msg91SmsProvider(AUTH_KEY, TEMPLATE_ID, base_url=msg91_standin.base_url)

    with pytest.raises(SmsError) as info:
        await provider.send(SmsMessage(to=TO, body=TEXT))

    assert info.value.retryable is True
    assert msg91_standin.messages == []


async def test_msg91_connection_refused_is_retryable() -> None:
    provider = Msg91SmsProvider(AUTH_KEY, TEMPLATE_ID, base_url=closed_port_url())

    with pytest.raises(SmsError) as info:
        await provider.send(SmsMessage(to=TO, body=TEXT))

    assert info.value.retryable is True


async def test_msg91_timeout_is_honoured_and_retryable() -> None:
    with Msg91StandIn(AUTH_KEY, TEMPLATE_ID, delay=5.0) as standin:
        provider = Msg91SmsProvider(AUTH_KEY, TEMPLATE_ID, base_url=standin.base_url, timeout=0.5)
        started = time.monotonic()

        with pytest.raises(SmsError) as info:
            await provider.send(SmsMessage(to=TO, body=TEXT))

        assert info.value.retryable is True
        assert 0.4 <= time.monotonic() - started < 2.0


async def test_msg91_rejects_non_e164_number_before_sending(msg91_standin: Msg91StandIn) -> None:
    provider = Msg91SmsProvider(AUTH_KEY, TEMPLATE_ID, base_url=msg91_standin.base_url)

    with pytest.raises(SmsError) as info:
        await provider.send(SmsMessage(to="09876543210", body=TEXT))

    assert info.value.retryable is False
    assert msg91_standin.request_count == 0
