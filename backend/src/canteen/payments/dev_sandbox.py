"""The Razorpay-compatible sandbox inside the API process, for development and tests.

The sandbox is a workspace tool (tools/razorpay-sandbox, `canteen_sandbox`), not part of
the product: it is imported here, and only here, when the embedded default asks for it,
so the product package and its image run without it.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp

from canteen.payments.factory import SANDBOX_PATH
from canteen.settings import Settings

log = logging.getLogger("canteen.payments")


def wants_sandbox(settings: Settings) -> bool:
    """Development and tests on the sandbox gateway with no sandbox URL of their own."""
    return (
        settings.payment_gateway == "sandbox"
        and not settings.is_production
        and not settings.razorpay_base_url
    )


def sandbox_app(settings: Settings, webhook_url: str) -> ASGIApp | None:
    """The sandbox to mount at SANDBOX_PATH, or None when it is not installed."""
    try:
        from canteen_sandbox import create_sandbox_app
    except ImportError:
        log.warning(
            "the Razorpay sandbox (canteen-razorpay-sandbox) is not installed: %s is not "
            "served and UPI payments cannot be made; install the workspace's dev group or "
            "set CANTEEN_RAZORPAY_BASE_URL",
            SANDBOX_PATH,
        )
        return None
    return create_sandbox_app(
        key_id=settings.razorpay_key_id,
        key_secret=settings.razorpay_key_secret,
        webhook_secret=settings.razorpay_webhook_secret,
        webhook_url=webhook_url,
        public_url=f"{settings.public_base_url}{SANDBOX_PATH}",
    )
