"""Run the Razorpay sandbox standalone.

    python -m canteen_sandbox --port 9100 --webhook-url http://127.0.0.1:8000/...

Keys come from CANTEEN_RAZORPAY_KEY_ID / _KEY_SECRET / _WEBHOOK_SECRET (the same variables
the backend reads), so both sides agree without extra configuration.
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from canteen_sandbox import (
    DEFAULT_KEY_ID,
    DEFAULT_KEY_SECRET,
    DEFAULT_WEBHOOK_SECRET,
    create_sandbox_app,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m canteen_sandbox",
        description="Local Razorpay-compatible sandbox (orders, payments, refunds, webhooks).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=9100, help="port (default: %(default)s)")
    parser.add_argument("--webhook-url", default=None, help="where to POST webhook events")
    parser.add_argument(
        "--public-url",
        default=None,
        help="URL testers and apps reach the sandbox at (default: http://HOST:PORT)",
    )
    args = parser.parse_args(argv)

    app = create_sandbox_app(
        key_id=os.environ.get("CANTEEN_RAZORPAY_KEY_ID") or DEFAULT_KEY_ID,
        key_secret=os.environ.get("CANTEEN_RAZORPAY_KEY_SECRET") or DEFAULT_KEY_SECRET,
        webhook_secret=os.environ.get("CANTEEN_RAZORPAY_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET,
        webhook_url=args.webhook_url,
        public_url=args.public_url or f"http://{args.host}:{args.port}",
    )
    uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
