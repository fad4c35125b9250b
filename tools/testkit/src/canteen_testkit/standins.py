"""Local HTTP stand-ins for third-party APIs, for tests and offline end-to-end runs.

Each stand-in is a real HTTP server on 127.0.0.1 (random port) in a background thread,
so adapters are exercised through their real HTTP stack. They mimic the provider's wire
format (paths, auth, status codes, error bodies) closely enough that an adapter working
against them is expected to work against the real service.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
import sys
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_M = TypeVar("_M")

# (status, JSON body or None for an empty body, extra headers)
_Reply = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout test) leaves a broken pipe behind; that is expected.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _StandIn(Generic[_M]):
    """Server lifecycle, recorded messages and failure injection shared by the stand-ins."""

    server_name = "standin"

    def __init__(self, *, delay: float = 0.0) -> None:
        # Seconds to wait before answering each request, to exercise client timeouts.
        self.delay = delay
        self._lock = threading.Lock()
        self._messages: list[_M] = []
        self._injected: deque[tuple[int, Any]] = deque()
        self._request_count = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- public API -------------------------------------------------------------------

    @property
    def messages(self) -> list[_M]:
        """Messages accepted so far (a snapshot copy)."""
        with self._lock:
            return list(self._messages)

    @property
    def request_count(self) -> int:
        """All requests received, including rejected and injected-failure ones."""
        with self._lock:
            return self._request_count

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(self, status: int, json_body: Any = None) -> None:
        """Answer the next request with `status` and `json_body`, skipping normal handling.

        Calls queue up: each injected reply is used for exactly one request.
        """
        with self._lock:
            self._injected.append((status, json_body))

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self._make_handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in `delay`
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- for subclasses ---------------------------------------------------------------

    def _handle(self, request: _Request) -> _Reply:
        raise NotImplementedError

    def _record(self, message: _M) -> None:
        with self._lock:
            self._messages.append(message)

    # -- plumbing ---------------------------------------------------------------------

    def _dispatch(self, request: _Request) -> _Reply:
        with self._lock:
            self._request_count += 1
        if self.delay > 0:
            self._stopping.wait(self.delay)
        with self._lock:
            injected = self._injected.popleft() if self._injected else None
        if injected is not None:
            return injected[0], injected[1], {}
        return self._handle(request)

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            server_version = standin.server_name
            sys_version = ""

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
                parts = urlsplit(self.path)
                request = _Request(
                    method=self.command,
                    path=parts.path,
                    query=parts.query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                status, payload, extra_headers = standin._dispatch(request)
                raw = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                if payload is not None:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in extra_headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler


# ----------------------------------------------------------------------------------------
# Twilio Programmable Messaging
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwilioReceivedMessage:
    sid: str
    account_sid: str
    auth: tuple[str, str]  # HTTP Basic credentials the client sent
    form: dict[str, list[str]]  # the form body exactly as received
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str


def _twilio_error(status: int, code: int, message: str) -> _Reply:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return status, body, {}


def _sms_segments(body: str) -> int:
    # GSM-7 vs UCS-2 approximated by ASCII; enough for a plausible num_segments.
    single, multi = (160, 153) if body.isascii() else (70, 67)
    return 1 if len(body) <= single else math.ceil(len(body) / multi)


class TwilioStandIn(_StandIn[TwilioReceivedMessage]):
    """`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` as Twilio answers it."""

    server_name = "TwilioStandIn"
    _path = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
    _sender = re.compile(r"^(\+[1-9]\d{1,14}|\d{3,8}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11})$")

    def __init__(self, account_sid: str, auth_token: str, *, delay: float = 0.0) -> None:
        super().__init__(delay=delay)
        self.account_sid = account_sid
        self.auth_token = auth_token

    def _credentials(self, request: _Request) -> tuple[str, str] | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, password) if sep else None

    def _handle(self, request: _Request) -> _Reply:
        auth = self._credentials(request)
        if auth is None or not (
            secrets.compare_digest(auth[0], self.account_sid)
            and secrets.compare_digest(auth[1], self.auth_token)
        ):
            status, body, _ = _twilio_error(401, 20003, "Authenticate")
            return status, body, {"WWW-Authenticate": 'Basic realm="Twilio API"'}

        match = self._path.match(request.path)
        if match is None or match["sid"] != self.account_sid:
            return _twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        if request.method != "POST":
            return _twilio_error(405, 20004, "Method not allowed")

        try:
            form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            form = {}

        def field(name: str) -> str | None:
            values = form.get(name)
            return values[-1] if values else None

        to = field("To")
        from_ = field("From")
        service_sid = field("MessagingServiceSid")
        body = field("Body")
        if not to:
            return _twilio_error(400, 21604, "A 'To' phone number is required.")
        if not _E164.match(to):
            return _twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not from_ and not service_sid:
            return _twilio_error(
                400, 21603, "The source 'from' phone number is required to send an SMS."
            )
        if from_ and not self._sender.match(from_):
            return _twilio_error(
                400,
                21212,
                f"The 'From' number {from_} is not a valid phone number, shortcode, "
                "or alphanumeric sender ID.",
            )
        if not body:
            return _twilio_error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return _twilio_error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )

        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC))
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        resource = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service_sid,
            "num_media": "0",
            "num_segments": str(_sms_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # Twilio answers "accepted" when a Messaging Service picks the sender itself.
            "status": "queued" if from_ else "accepted",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }
        self._record(
            TwilioReceivedMessage(
                sid=sid,
                account_sid=self.account_sid,
                auth=auth,
                form=form,
                to=to,
                from_=from_,
                messaging_service_sid=service_sid,
                body=body,
            )
        )
        return 201, resource, {}


# ----------------------------------------------------------------------------------------
# MSG91 Flow API
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Msg91ReceivedMessage:
    request_id: str
    authkey: str
    payload: dict[str, Any]  # the JSON body exactly as received
    mobiles: str
    body: str | None


def _msg91_error(message: str) -> _Reply:
    # MSG91 reports logical failures with HTTP 200; only `type` says it failed.
    return 200, {"type": "error", "message": message}, {}


class Msg91StandIn(_StandIn[Msg91ReceivedMessage]):
    """`POST /api/v5/flow` as MSG91 answers it."""

    server_name = "Msg91StandIn"
    _mobiles = re.compile(r"^[1-9]\d{9,14}(,[1-9]\d{9,14})*$")

    def __init__(self, auth_key: str, template_id: str, *, delay: float = 0.0) -> None:
        super().__init__(delay=delay)
        self.auth_key = auth_key
        self.template_id = template_id

    def _handle(self, request: _Request) -> _Reply:
        if request.path.rstrip("/") != "/api/v5/flow":
            return 404, {"type": "error", "message": "Not Found"}, {}
        if request.method != "POST":
            return 405, {"type": "error", "message": "Method Not Allowed"}, {}
        authkey = request.headers.get("authkey", "")
        if not secrets.compare_digest(authkey, self.auth_key):
            return _msg91_error("Authentication failure")
        try:
            payload = json.loads(request.body)
        except ValueError:
            return _msg91_error("Invalid JSON")
        if not isinstance(payload, dict):
            return _msg91_error("Invalid JSON")
        if payload.get("template_id") != self.template_id:
            return _msg91_error("Invalid template id")
        recipients = payload.get("recipients")
        if not isinstance(recipients, list) or len(recipients) != 1:
            # One recipient per OTP send is all this stand-in models.
            return _msg91_error("Recipients must be a list with one entry")
        recipient = recipients[0]
        mobiles = recipient.get("mobiles") if isinstance(recipient, dict) else None
        if not isinstance(mobiles, str) or not self._mobiles.match(mobiles):
            return _msg91_error("Invalid mobile number")
        body = recipient.get("body")
        request_id = secrets.token_hex(12)
        self._record(
            Msg91ReceivedMessage(
                request_id=request_id,
                authkey=authkey,
                payload=payload,
                mobiles=mobiles,
                body=body if isinstance(body, str) else None,
            )
        )
        return 200, {"type": "success", "message": request_id}, {}
