from __future__ import annotations

from typing import TYPE_CHECKING

from canteen.settings import ConfigurationError, Settings
from canteen.sms.base import SmsProvider

if TYPE_CHECKING:
    from canteen.core.container import Container


def build_sms_provider(settings: Settings, container: Container) -> SmsProvider:
    kind = settings.sms_provider
    if kind == "console":
        from canteen.sms.console import ConsoleSmsProvider

        return ConsoleSmsProvider(container.sessionmaker)
    if kind == "twilio":
        from canteen.sms.twilio import TwilioSmsProvider

        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            raise ConfigurationError(
                "CANTEEN_TWILIO_ACCOUNT_SID and CANTEEN_TWILIO_AUTH_TOKEN are required"
            )
        if not (settings.twilio_from_number or settings.twilio_messaging_service_sid):
            raise ConfigurationError(
                "CANTEEN_TWILIO_FROM_NUMBER or CANTEEN_TWILIO_MESSAGING_SERVICE_SID is required"
            )
        return TwilioSmsProvider(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            base_url=settings.twilio_base_url,
        )
    if kind == "msg91":
        from canteen.sms.msg91 import Msg91SmsProvider

        if not (settings.msg91_auth_key and settings.msg91_template_id):
            raise ConfigurationError(
                "CANTEEN_MSG91_AUTH_KEY and CANTEEN_MSG91_TEMPLATE_ID are required"
            )
        return Msg91SmsProvider(
            settings.msg91_auth_key, settings.msg91_template_id, base_url=settings.msg91_base_url
        )
    raise ConfigurationError(f"CANTEEN_SMS_PROVIDER={kind!r} is not one of console, twilio, msg91")
