"""A local Firebase Cloud Messaging (HTTP v1) + Google OAuth2 token endpoint stand-in.

`firebase_admin` talks to it unmodified apart from the FCM URL (see
`canteen.notifications.fcm`): google-auth signs a service-account JWT, exchanges it at
the file's `token_uri` (this server's `/token`), and sends each message with the Bearer
token it got back. The server checks all of that the way Google does (signature, key
id, issuer, audience, lifetime, scope, Bearer token) and validates each message
(integrations.md §2): one target, known fields only, string data, size limit. Tokens
can be marked unregistered or invalid and failures injected; error bodies are FCM's.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from canteen_testkit.fcm_messages import (
    BAD_REQUEST,
    FCM_ERROR,
    MAX_PAYLOAD_BYTES,
    MAX_TOPIC_PAYLOAD_BYTES,
    InvalidMessage,
    bad_request_body,
    google_error,
    validate_message,
)
from canteen_testkit.standins import _Reply, _Request, _StandIn

__all__ = [
    "BAD_REQUEST",
    "FCM_ERROR",
    "GOOGLE_TOKEN_URI",
    "INVALID_TOKEN_BODY",
    "MAX_PAYLOAD_BYTES",
    "MAX_TOPIC_PAYLOAD_BYTES",
    "UNREGISTERED_BODY",
    "FcmAttempt",
    "FcmReceivedMessage",
    "FcmStandIn",
    "bad_request_body",
    "google_error",
    "write_service_account",
]

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_SCOPES = (
    "https://www.googleapis.com/auth/firebase.messaging",
    "https://www.googleapis.com/auth/cloud-platform",
)
_SEND_PATH = re.compile(r"^/v1/projects/(?P<pid>[^/]+)/messages:send$")

UNREGISTERED_BODY: dict[str, Any] = {
    "error": {
        "code": 404,
        "message": "Requested entity was not found.",
        "status": "NOT_FOUND",
        "details": [{"@type": FCM_ERROR, "errorCode": "UNREGISTERED"}],
    }
}
INVALID_TOKEN_BODY: dict[str, Any] = {
    "error": {
        "code": 400,
        "message": "The registration token is not a valid FCM registration token",
        "status": "INVALID_ARGUMENT",
        "details": [{"@type": FCM_ERROR, "errorCode": "INVALID_ARGUMENT"}],
    }
}


# Bodies `fail_next`/`fail_token` use when none is given: what FCM answers with.
DEFAULT_FAILURE_BODIES: dict[int, dict[str, Any]] = {
    429: google_error(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Send requests' of service 'fcm.googleapis.com'.",
        [{"@type": FCM_ERROR, "errorCode": "QUOTA_EXCEEDED"}],
    ),
    500: google_error(
        500,
        "INTERNAL",
        "Internal error encountered.",
        [{"@type": FCM_ERROR, "errorCode": "INTERNAL"}],
    ),
    503: google_error(
        503,
        "UNAVAILABLE",
        "The service is currently unavailable.",
        [{"@type": FCM_ERROR, "errorCode": "UNAVAILABLE"}],
    ),
}


def write_service_account(
    path: str | Path,
    token_uri: str,
    *,
    project_id: str = "canteen-test",
    client_email: str | None = None,
) -> dict[str, Any]:
    """Write a service-account JSON key file with a fresh RSA key; returns its contents.

    The shape is what the Google Cloud console downloads, so `credentials.Certificate`
    and google-auth accept it; `token_uri` decides where google-auth exchanges it.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    email = client_email or f"firebase-adminsdk-test@{project_id}.iam.gserviceaccount.com"
    info: dict[str, Any] = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**21)).zfill(21),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + email.replace("@", "%40"),
        "universe_domain": "googleapis.com",
    }
    Path(path).write_text(json.dumps(info, indent=2))
    return info


@dataclass(frozen=True)
class FcmReceivedMessage:
    name: str  # projects/{pid}/messages/{id}, as answered
    project_id: str
    message: dict[str, Any]  # the request's `message` object exactly as received
    headers: dict[str, str]  # lower-cased names
    access_token: str

    @property
    def token(self) -> str | None:
        token = self.message.get("token")
        return token if isinstance(token, str) else None


@dataclass(frozen=True)
class FcmAttempt:
    """One `messages:send` request and the status it was answered with."""

    token: str | None
    status: int


@dataclass(frozen=True)
class _Account:
    client_email: str
    public_key: Any


class FcmStandIn(_StandIn[FcmReceivedMessage]):
    """`POST /token` (OAuth2 JWT-bearer grant) and `POST /v1/projects/{pid}/messages:send`."""

    server_name = "FcmStandIn"

    def __init__(self, project_id: str = "canteen-test", *, delay: float = 0.0) -> None:
        super().__init__(delay=delay)
        self.project_id = project_id
        self._accounts: dict[str, _Account] = {}  # by private_key_id
        self._access_tokens: dict[str, str] = {}  # token -> client_email
        self._token_requests = 0
        self._unregistered: set[str] = set()
        self._invalid: set[str] = set()
        self._send_failures: deque[_Reply] = deque()
        self._token_failures: dict[str, deque[_Reply]] = {}
        self._attempts: list[FcmAttempt] = []
        self._id_lock = threading.Lock()
        self._next_id = int(time.time() * 1000) % 10**13

    # -- set-up -----------------------------------------------------------------------

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    def trust(self, service_account: dict[str, Any]) -> None:
        """Accept JWT assertions signed by this service account's key."""
        key = serialization.load_pem_private_key(
            service_account["private_key"].encode(), password=None
        )
        with self._lock:
            self._accounts[service_account["private_key_id"]] = _Account(
                service_account["client_email"], key.public_key()
            )

    def write_service_account(self, path: str | Path) -> dict[str, Any]:
        """A key file for this project whose token_uri is this server; trusted."""
        info = write_service_account(path, self.token_uri, project_id=self.project_id)
        self.trust(info)
        return info

    def unregister(self, *tokens: str) -> None:
        """Sends to these tokens answer 404 UNREGISTERED (app uninstalled, token expired)."""
        with self._lock:
            self._unregistered.update(tokens)

    def mark_invalid(self, *tokens: str) -> None:
        """Sends to these tokens answer 400 "not a valid FCM registration token"."""
        with self._lock:
            self._invalid.update(tokens)

    def fail_next(self, status: int, json_body: Any = None) -> None:
        """Answer the next `messages:send` request with `status` (default body: FCM's for
        429/500/503). Token requests are not affected. Calls queue up."""
        with self._lock:
            self._send_failures.append(self._failure(status, json_body, None))

    def fail_token(
        self,
        token: str,
        status: int,
        json_body: Any = None,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` sends to `token` with `status` (after auth and
        parsing), whatever order parallel sends arrive in."""
        with self._lock:
            queue = self._token_failures.setdefault(token, deque())
            for _ in range(times):
                queue.append(self._failure(status, json_body, headers))

    @staticmethod
    def _failure(status: int, body: Any, headers: dict[str, str] | None) -> _Reply:
        if body is None:
            body = DEFAULT_FAILURE_BODIES.get(status)
        return status, body, dict(headers or {})

    # -- observations -----------------------------------------------------------------

    @property
    def token_requests(self) -> int:
        """Access tokens issued so far."""
        with self._lock:
            return self._token_requests

    @property
    def attempts(self) -> list[FcmAttempt]:
        """Every `messages:send` request that reached the server, in arrival order."""
        with self._lock:
            return list(self._attempts)

    def attempts_for(self, token: str) -> int:
        return sum(1 for a in self.attempts if a.token == token)

    def messages_for(self, token: str) -> list[FcmReceivedMessage]:
        return [m for m in self.messages if m.token == token]

    # -- handling ---------------------------------------------------------------------

    def _dispatch(self, request: _Request) -> _Reply:
        with self._lock:
            self._request_count += 1
        if self.delay > 0:
            self._stopping.wait(self.delay)
        if request.path == "/token":
            return self._token(request)
        if _SEND_PATH.match(request.path):
            reply = self._send(request)
            token = None
            try:
                message = json.loads(request.body).get("message")
                token = message.get("token") if isinstance(message, dict) else None
            except (ValueError, AttributeError):
                pass
            with self._lock:
                self._attempts.append(
                    FcmAttempt(token if isinstance(token, str) else None, reply[0])
                )
            return reply
        # Google's front end answers unknown paths with an HTML 404, not an API error.
        return 404, None, {}

    # OAuth2 token endpoint (RFC 7523 JWT bearer grant, as oauth2.googleapis.com does it)

    def _token(self, request: _Request) -> _Reply:
        def oauth_error(error: str, description: str) -> _Reply:
            return 400, {"error": error, "error_description": description}, {}

        if request.method != "POST":
            return 405, None, {}
        try:
            form = parse_qs(request.body.decode(), keep_blank_values=True)
        except UnicodeDecodeError:
            form = {}
        grant_type = (form.get("grant_type") or [""])[-1]
        assertion = (form.get("assertion") or [""])[-1]
        if grant_type != JWT_BEARER_GRANT:
            return oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return oauth_error("invalid_grant", "Invalid JWT: malformed")
        with self._lock:
            account = self._accounts.get(str(header.get("kid")))
        if account is None or header.get("alg") != "RS256":
            return oauth_error("invalid_grant", "Invalid grant: account not found")
        try:
            claims = jwt.decode(
                assertion,
                account.public_key,
                algorithms=["RS256"],
                # google-auth always names Google's token endpoint as the audience, even
                # when it posts elsewhere (service_account._make_authorization_grant_
                # assertion); older versions used the token_uri itself.
                audience=[GOOGLE_TOKEN_URI, self.token_uri],
                issuer=account.client_email,
                options={"require": ["iss", "aud", "iat", "exp"]},
                leeway=60,
            )
        except jwt.InvalidSignatureError:
            return oauth_error("invalid_grant", "Invalid JWT Signature.")
        except jwt.PyJWTError as exc:
            return oauth_error("invalid_grant", f"Invalid JWT: {exc}")
        if int(claims["exp"]) - int(claims["iat"]) > 3600:
            return oauth_error(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )
        scopes = str(claims.get("scope", "")).split()
        if not any(s in FCM_SCOPES for s in scopes):
            return oauth_error(
                "invalid_scope", "Invalid OAuth scope or ID token audience provided."
            )
        access_token = "ya29.standin-" + secrets.token_urlsafe(48)
        with self._lock:
            self._access_tokens[access_token] = account.client_email
            self._token_requests += 1
        return 200, {"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"}, {}

    # FCM HTTP v1 messages:send

    def _send(self, request: _Request) -> _Reply:
        with self._lock:
            injected = self._send_failures.popleft() if self._send_failures else None
        if injected is not None:
            return injected
        if request.method != "POST":
            return 404, None, {}
        scheme, _, access_token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            known = scheme.lower() == "bearer" and access_token in self._access_tokens
        if not known:
            body = google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
            )
            return 401, body, {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
        match = _SEND_PATH.match(request.path)
        assert match is not None
        pid = match["pid"]
        if pid != self.project_id:
            return (
                403,
                google_error(
                    403,
                    "PERMISSION_DENIED",
                    f"Permission 'cloudmessaging.messages.create' denied on resource "
                    f"'//cloudresourcemanager.googleapis.com/projects/{pid}' "
                    "(or it may not exist).",
                ),
                {},
            )
        try:
            body = json.loads(request.body)
        except ValueError:
            return 400, bad_request_body("", "Invalid JSON payload received."), {}
        try:
            message, validate_only = validate_message(body)
        except InvalidMessage as invalid:
            return invalid.reply

        token = message.get("token")
        if isinstance(token, str):
            with self._lock:
                queue = self._token_failures.get(token)
                injected = queue.popleft() if queue else None
                unregistered = token in self._unregistered
                invalid_token = token in self._invalid
            if injected is not None:
                return injected
            if unregistered:
                return 404, UNREGISTERED_BODY, {}
            if invalid_token:
                return 400, INVALID_TOKEN_BODY, {}

        if validate_only:
            return 200, {"name": f"projects/{pid}/messages/fake_message_id"}, {}
        with self._id_lock:
            self._next_id += 1
            name = f"projects/{pid}/messages/0:{self._next_id}%{secrets.token_hex(8)}"
        self._record(
            FcmReceivedMessage(
                name=name,
                project_id=pid,
                message=message,
                headers=dict(request.headers),
                access_token=access_token,
            )
        )
        return 200, {"name": name}, {}
