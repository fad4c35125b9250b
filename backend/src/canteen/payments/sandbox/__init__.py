"""A local Razorpay-compatible sandbox: the official SDK, checkout testers and webhooks.

`python -m canteen.payments.sandbox --port 9100 --webhook-url URL` runs it standalone;
tests use `SandboxServer` (uvicorn in a background thread) or `create_sandbox_app`.
"""

from canteen.payments.sandbox.app import (
    DEFAULT_KEY_ID,
    DEFAULT_KEY_SECRET,
    DEFAULT_WEBHOOK_SECRET,
    RazorpaySandbox,
    SandboxError,
    SandboxEvent,
    SandboxServer,
    WebhookAttempt,
    create_sandbox_app,
)

__all__ = [
    "DEFAULT_KEY_ID",
    "DEFAULT_KEY_SECRET",
    "DEFAULT_WEBHOOK_SECRET",
    "RazorpaySandbox",
    "SandboxError",
    "SandboxEvent",
    "SandboxServer",
    "WebhookAttempt",
    "create_sandbox_app",
]
