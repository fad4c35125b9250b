"""Sentry reports (issue 19, point 4): off without CANTEEN_SENTRY_DSN; with it, an error
reaches a Sentry endpoint (a local receiver of the real SDK's envelopes) with phones, OTPs,
tokens and passwords scrubbed from the message, the stack's local variables and headers.
The SDK runs in a child process so its global hooks stay out of this test session."""

from __future__ import annotations

import gzip
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from canteen.observability.errors import install_sentry, scrub
from canteen.settings import Settings

PHONE = "+919876543210"
OTP = "482913"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdHVkZW50In0.c2lnbmF0dXJlLXZhbHVl"
PASSWORD = "kitchen-pass-1"

CHILD = f"""
import sys, sentry_sdk
from canteen.settings import Settings
from canteen.observability.errors import install_sentry

assert install_sentry(Settings(sentry_dsn=sys.argv[1]), "test")

def verify(phone, otp, headers, password):
    token = {JWT!r}
    raise RuntimeError(f"OTP {{otp}} for {{phone}} failed (token={{token}})")

try:
    verify({PHONE!r}, {OTP!r}, {{"Authorization": "Bearer " + {JWT!r}}}, {PASSWORD!r})
except RuntimeError:
    sentry_sdk.capture_exception()
sentry_sdk.add_breadcrumb(message="sent {OTP} is your Canteen sign-in code to {PHONE}")
sentry_sdk.capture_message("second event")
sentry_sdk.flush(10)
"""


@pytest.fixture
def sentry_receiver() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            bodies.append(body)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://publickey@127.0.0.1:{server.server_address[1]}/1", bodies
    server.shutdown()
    server.server_close()


def test_sentry_is_off_without_a_dsn():
    assert install_sentry(Settings(), "api") is False


def test_an_error_reaches_sentry_with_personal_data_scrubbed(sentry_receiver):
    dsn, bodies = sentry_receiver
    subprocess.run([sys.executable, "-c", CHILD, dsn], check=True, timeout=60)
    payload = b"\n".join(bodies).decode()
    assert "RuntimeError" in payload and "verify" in payload  # the report arrived, with frames
    assert "second event" in payload
    for secret in (PHONE, PHONE[3:], OTP, JWT, "eyJhbGciOiJIUzI1NiJ9", PASSWORD):
        assert secret not in payload, secret


def test_scrub_keeps_what_is_not_personal():
    event = {"message": "order A-42 moved to ready", "extra": {"order_id": "abc", "total": 6000}}
    assert scrub(event) == event
