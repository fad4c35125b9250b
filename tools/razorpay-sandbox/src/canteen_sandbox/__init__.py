"""A local Razorpay-compatible sandbox: the official SDK, checkout testers and webhooks.

A development and test tool of the workspace, not part of the product: the backend mounts
it at /sandbox/razorpay in development when it is installed. `python -m canteen_sandbox
--port 9100 --webhook-url URL` (or `canteen-razorpay-sandbox`) runs it standalone; tests
use `SandboxServer` (uvicorn in a background thread) or `create_sandbox_app`.

Covers what Canteen uses: Orders, Payments (UPI), Refunds with `X-Refund-Idempotency`, a
hosted checkout page for testers, a JSON twin of it for programs, and signed webhooks
delivered at-least-once with retries. State lives in memory.
"""

from canteen_sandbox.app import create_sandbox_app
from canteen_sandbox.entities import (
    DEFAULT_KEY_ID,
    DEFAULT_KEY_SECRET,
    DEFAULT_WEBHOOK_SECRET,
    SandboxError,
    SandboxEvent,
    WebhookAttempt,
)
from canteen_sandbox.sandbox import RazorpaySandbox
from canteen_sandbox.server import SandboxServer

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
