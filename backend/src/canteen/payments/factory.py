from __future__ import annotations

from canteen.payments.gateway import PaymentGateway
from canteen.payments.razorpay_gateway import RazorpayGateway
from canteen.settings import ConfigurationError, Settings

SANDBOX_PATH = "/sandbox/razorpay"


def sandbox_base_url(settings: Settings) -> str:
    return settings.razorpay_base_url or f"{settings.public_base_url}{SANDBOX_PATH}"


def build_gateway(settings: Settings) -> PaymentGateway:
    """Both choices use the official Razorpay SDK; the sandbox only changes the base URL
    and adds a hosted checkout page for testers."""
    if settings.payment_gateway == "sandbox":
        base = sandbox_base_url(settings)
        return RazorpayGateway(
            settings.razorpay_key_id,
            settings.razorpay_key_secret,
            settings.razorpay_webhook_secret,
            base_url=base,
            checkout_base_url=base,
        )
    if settings.payment_gateway == "razorpay":
        return RazorpayGateway(
            settings.razorpay_key_id,
            settings.razorpay_key_secret,
            settings.razorpay_webhook_secret,
            base_url=settings.razorpay_base_url,
        )
    raise ConfigurationError(
        f"CANTEEN_PAYMENT_GATEWAY={settings.payment_gateway!r} is not one of sandbox, razorpay"
    )
