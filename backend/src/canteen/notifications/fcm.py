"""Firebase Cloud Messaging (HTTP v1) through the official `firebase_admin` SDK.

The SDK is blocking (requests), so each batch runs in a worker thread. Every provider
owns a named Firebase App, so several providers (or tests) never share credentials.
Failures are reported per message and classified as integrations.md §2 prescribes:
which tokens to delete, and which failures are worth retrying.
"""

from __future__ import annotations

import datetime
import logging
import threading
import uuid
import warnings
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
import firebase_admin
import google.auth.exceptions as auth_exceptions
import google.auth.transport.requests
from firebase_admin import credentials, exceptions, messaging

from canteen.notifications.push import CLICK_ACTION, PushMessage, PushResult

log = logging.getLogger("canteen.push.fcm")

MAX_BATCH = 500  # send_each refuses more (ValueError)
ANDROID_CHANNEL_ID = "orders"
ANDROID_TTL = datetime.timedelta(hours=1)

_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_BAD_TOKEN_MESSAGE = "not a valid fcm registration token"

# Transient per-message failures: throttling (429), outages (500/503) and timeouts or
# connection failures (which the SDK reports as DeadlineExceeded/Unavailable).
_RETRYABLE = (
    exceptions.ResourceExhaustedError,  # includes messaging.QuotaExceededError
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.DeadlineExceededError,
)


class FcmPushProvider:
    name = "fcm"

    def __init__(
        self,
        credentials_file: str,
        project_id: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        options: dict[str, Any] = {"httpTimeout": timeout}  # the SDK default is 120 s
        if project_id:
            options["projectId"] = project_id
        cred = credentials.Certificate(credentials_file)
        self._refresh_lock = threading.Lock()
        self._auth_request = _TimedRequest(timeout)
        self._app = firebase_admin.initialize_app(
            cred, options, name=f"canteen-push-{uuid.uuid4().hex}"
        )
        try:
            # Creating the service checks that a project id is known (option or file).
            service = messaging._get_messaging_service(self._app)
            self.project_id: str = self._app.project_id
            if base_url:
                # The SDK hard-codes https://fcm.googleapis.com (_MessagingService.FCM_URL)
                # and FCM has no emulator, so a local stand-in is only reachable by pointing
                # this app's service at it. Path, headers and body stay as the SDK builds
                # them. OAuth needs no such patch: google-auth honours the service-account
                # file's `token_uri`.
                service._fcm_url = (
                    f"{base_url.rstrip('/')}/v1/projects/{self.project_id}/messages:send"
                )
        except BaseException:
            firebase_admin.delete_app(self._app)
            raise

    async def send_many(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(messages), MAX_BATCH):
            chunk = list(messages[start : start + MAX_BATCH])
            results.extend(await anyio.to_thread.run_sync(self._send_batch, chunk))
        return results

    async def aclose(self) -> None:
        # delete_app closes the SDK's async client with asyncio.run(), which cannot run
        # inside this event loop: do it in a thread.
        await anyio.to_thread.run_sync(firebase_admin.delete_app, self._app)

    # -- blocking part, in a worker thread ------------------------------------------------

    def _send_batch(self, batch: list[PushMessage]) -> list[PushResult]:
        with warnings.catch_warnings():
            # firebase-admin >= 7.5 deprecates Message.token in favour of `fid`; whether
            # web-push tokens are valid fids is unconfirmed (integrations.md §2), so keep
            # `token` and keep the warning out of `-W error` runs. (catch_warnings is
            # process-wide; it is held only while the message objects are built.)
            warnings.filterwarnings(
                "ignore", message=r".*token is deprecated", category=DeprecationWarning
            )
            fcm_messages = [_to_fcm(m) for m in batch]
        try:
            self._ensure_access_token()
            response = messaging.send_each(fcm_messages, app=self._app)
        except (exceptions.FirebaseError, auth_exceptions.GoogleAuthError) as exc:
            # The whole batch failed before any send: the OAuth token exchange.
            retryable = _batch_failure_retryable(exc)
            log.warning("fcm: batch of %d failed (retryable=%s): %s", len(batch), retryable, exc)
            error = f"{type(exc).__name__}: {exc}"
            return [
                PushResult(token=m.token, ok=False, error=error, retryable=retryable) for m in batch
            ]
        return [_result(m.token, r) for m, r in zip(batch, response.responses, strict=True)]

    def _ensure_access_token(self) -> None:
        """Fetch the OAuth2 access token once, before the SDK's parallel sends.

        send_each sends from a thread per message, and each thread that finds no valid
        token runs its own JWT grant; refreshing here first makes that one grant per
        token lifetime instead of one per message. The credential is the very object
        the SDK's session uses (`Certificate.get_credential()`).
        """
        google_credential = self._app.credential.get_credential()
        with self._refresh_lock:
            if not google_credential.valid:
                google_credential.refresh(self._auth_request)


class _TimedRequest(google.auth.transport.requests.Request):
    """google-auth's HTTP transport for the token exchange, with our timeout (its own
    default is 120 s)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().__call__(*args, **kwargs)  # type: ignore[no-untyped-call]


def _to_fcm(message: PushMessage) -> messaging.Message:
    return messaging.Message(
        token=message.token,
        notification=messaging.Notification(title=message.title, body=message.body),
        data=dict(message.data),
        android=messaging.AndroidConfig(
            priority="high",
            ttl=ANDROID_TTL,
            notification=messaging.AndroidNotification(
                click_action=CLICK_ACTION, channel_id=ANDROID_CHANNEL_ID
            ),
        ),
        apns=messaging.APNSConfig(
            payload=messaging.APNSPayload(aps=messaging.Aps(category=CLICK_ACTION, sound="default"))
        ),
    )


def _result(token: str, response: Any) -> PushResult:
    if response.success:
        return PushResult(token=token, ok=True, message_id=response.message_id)
    exc = response.exception
    token_invalid, retryable = classify_error(exc)
    return PushResult(
        token=token,
        ok=False,
        error=_describe(exc),
        token_invalid=token_invalid,
        retryable=retryable,
    )


def _describe(exc: Exception) -> str:
    """The SDK's message plus FCM's error code and field violations, for the logs."""
    text = f"{type(exc).__name__}: {exc}"
    error = _error_body(exc)
    extra: list[str] = []
    for detail in (error or {}).get("details") or []:
        if not isinstance(detail, dict):
            continue
        if detail.get("@type") == _FCM_ERROR and detail.get("errorCode"):
            extra.append(str(detail["errorCode"]))
        for violation in detail.get("fieldViolations") or []:
            if isinstance(violation, dict):
                extra.append(f"{violation.get('field')}: {violation.get('description')}")
    return f"{text} [{'; '.join(extra)}]" if extra else text


def _error_body(exc: Exception) -> dict[str, Any] | None:
    """The `error` object of a Google API error response, if the response had one."""
    response = getattr(exc, "http_response", None)
    if response is None:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _is_bad_token(error: dict[str, Any] | None) -> bool:
    """INVALID_ARGUMENT about the registration token itself, not about the payload.

    Delete only when FCM's own FcmError detail is present with the "not a valid FCM
    registration token" message. A google.rpc.BadRequest detail means a payload problem,
    unless its violations all point at `message.token` (FCM has been seen to attach one
    to the bad-token error too).
    """
    if error is None:
        return False
    details = [d for d in error.get("details") or [] if isinstance(d, dict)]
    if not any(d.get("@type") == _FCM_ERROR for d in details):
        return False
    if _BAD_TOKEN_MESSAGE not in str(error.get("message", "")).lower():
        return False
    for detail in details:
        if detail.get("@type") == _BAD_REQUEST:
            fields = [
                v.get("field") for v in detail.get("fieldViolations") or [] if isinstance(v, dict)
            ]
            if not fields or any(f != "message.token" for f in fields):
                return False
    return True


def classify_error(exc: Exception) -> tuple[bool, bool]:
    """(token_invalid, retryable) for one failed send."""
    if isinstance(exc, messaging.UnregisteredError):
        return True, False
    if isinstance(exc, exceptions.NotFoundError):
        # A 404 from FCM itself (a Google error body) means the token is gone. A bare 404
        # (wrong URL, proxy) says nothing about the token: never delete on that.
        error = _error_body(exc)
        return error is not None and error.get("status") == "NOT_FOUND", False
    if isinstance(exc, exceptions.InvalidArgumentError):
        return _is_bad_token(_error_body(exc)), False
    if isinstance(exc, _RETRYABLE):
        return False, True
    if isinstance(exc, exceptions.UnknownError):
        # E.g. a 502 from a load balancer, or an unparsable answer.
        response = getattr(exc, "http_response", None)
        return False, response is not None and response.status_code >= 500
    # SENDER_ID_MISMATCH, THIRD_PARTY_AUTH_ERROR, UNAUTHENTICATED, PERMISSION_DENIED:
    # configuration problems that retrying will not fix.
    return False, False


def _batch_failure_retryable(exc: Exception) -> bool:
    if isinstance(exc, _RETRYABLE):
        return True
    cause = exc if isinstance(exc, auth_exceptions.GoogleAuthError) else getattr(exc, "cause", None)
    # google-auth marks token-endpoint errors (RefreshError) retryable or not; transport
    # errors (endpoint unreachable) are always worth another try.
    if isinstance(cause, auth_exceptions.TransportError):
        return True
    if isinstance(cause, auth_exceptions.GoogleAuthError):
        return bool(getattr(cause, "retryable", False))
    return False
