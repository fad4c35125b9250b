"""What the FCM stand-in checks in a message (integrations.md §2) and the error bodies it
answers with: one target, known fields only, string data, reserved keys, the size limit."""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
MAX_PAYLOAD_BYTES = 4096
MAX_TOPIC_PAYLOAD_BYTES = 2048

# Fields of the v1 `Message` resource and its parts (firebase.google.com/docs/reference/
# fcm/rest/v1/projects.messages); anything else is "Unknown name ...: Cannot find field."
_MESSAGE_FIELDS = frozenset(
    {"name", "data", "notification", "android", "webpush", "apns", "fcm_options"}
    | {"token", "topic", "condition", "fid"}
)
_TARGETS = ("token", "topic", "condition", "fid")
_NOTIFICATION_FIELDS = frozenset({"title", "body", "image"})
_ANDROID_FIELDS = frozenset(
    {"collapse_key", "priority", "ttl", "restricted_package_name", "data", "notification"}
    | {"fcm_options", "direct_boot_ok", "bandwidth_constrained_ok", "restricted_satellite_ok"}
)
_ANDROID_NOTIFICATION_FIELDS = frozenset(
    {"title", "body", "icon", "color", "sound", "tag", "click_action", "body_loc_key"}
    | {"body_loc_args", "title_loc_key", "title_loc_args", "channel_id", "ticker", "sticky"}
    | {"event_time", "local_only", "notification_priority", "default_sound", "image"}
    | {"default_vibrate_timings", "default_light_settings", "vibrate_timings", "visibility"}
    | {"notification_count", "light_settings", "proxy", "bypass_proxy_notification"}
)
_APNS_FIELDS = frozenset({"headers", "payload", "fcm_options", "live_activity_token"})
_WEBPUSH_FIELDS = frozenset({"headers", "data", "notification", "fcm_options"})
_RESERVED_DATA_KEYS = frozenset({"from", "notification", "message_type"})
_DURATION = re.compile(r"^\d+(\.\d{1,9})?s$")


class InvalidMessage(Exception):
    """A message FCM would refuse; `reply` is the stand-in's answer."""

    def __init__(self, reply: tuple[int, Any, dict[str, str]]) -> None:
        self.reply = reply


def google_error(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A Google API error body: `{"error": {code, message, status, details?}}`."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def bad_request_body(field: str, description: str, *, fcm_error: bool = False) -> dict[str, Any]:
    """400 INVALID_ARGUMENT about the payload: a google.rpc.BadRequest detail naming the
    field (plus FCM's own INVALID_ARGUMENT detail for FCM-level checks)."""
    details: list[dict[str, Any]] = [
        {"@type": BAD_REQUEST, "fieldViolations": [{"field": field, "description": description}]}
    ]
    if fcm_error:
        details.append({"@type": FCM_ERROR, "errorCode": "INVALID_ARGUMENT"})
    message = description if not fcm_error else "Request contains an invalid argument."
    return google_error(400, "INVALID_ARGUMENT", message, details)


def validate_message(body: Any) -> tuple[dict[str, Any], bool]:
    if not isinstance(body, dict):
        raise InvalidMessage((400, bad_request_body("", "Invalid JSON payload received."), {}))
    _known_fields(body, {"message", "validate_only"}, "")
    validate_only = body.get("validate_only", False)
    if not isinstance(validate_only, bool):
        _violation("validate_only", "Invalid value at 'validate_only' (TYPE_BOOL)")
    message = body.get("message")
    if not isinstance(message, dict):
        _violation("message", "The message is missing.", fcm_error=True)
    _known_fields(message, _MESSAGE_FIELDS, "message")

    targets = [t for t in _TARGETS if message.get(t) not in (None, "")]
    if len(targets) != 1:
        description = (
            "Recipient of the message is not set."
            if not targets
            else f"Exactly one of {', '.join(_TARGETS)} may be set, got {', '.join(targets)}."
        )
        _violation("message", description, fcm_error=True)
    for target in targets:
        if not isinstance(message[target], str):
            _violation(f"message.{target}", f"Invalid value at 'message.{target}' (TYPE_STRING)")

    _string_map(message.get("data"), "message.data", data=True)
    notification = message.get("notification")
    if notification is not None:
        _object(notification, "message.notification")
        _known_fields(notification, _NOTIFICATION_FIELDS, "message.notification")
        _strings(notification, "message.notification")

    _check_android(message.get("android"))
    _check_apple_and_web(message)

    # FCM's limit is on the payload the device receives: notification + data.
    payload_size = len(
        json.dumps(
            {k: message[k] for k in ("notification", "data") if k in message},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
    )
    limit = MAX_PAYLOAD_BYTES if targets[0] in ("token", "fid") else MAX_TOPIC_PAYLOAD_BYTES
    if payload_size > limit:
        _violation(
            "message", f"Message is too big ({payload_size} > {limit} bytes)", fcm_error=True
        )
    return message, validate_only


def _check_android(android: Any) -> None:
    if android is None:
        return
    _object(android, "message.android")
    _known_fields(android, _ANDROID_FIELDS, "message.android")
    priority = android.get("priority")
    if priority is not None and str(priority).upper() not in ("NORMAL", "HIGH"):
        _violation(
            "message.android.priority",
            f"Invalid value at 'message.android.priority' "
            f"(type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), "
            f'"{priority}"',
        )
    ttl = android.get("ttl")
    if ttl is not None and not (isinstance(ttl, str) and _DURATION.match(ttl)):
        _violation(
            "message.android.ttl",
            "Invalid value at 'message.android.ttl' (type.googleapis.com/"
            f'google.protobuf.Duration), "{ttl}"',
        )
    _string_map(android.get("data"), "message.android.data", data=True)
    android_notification = android.get("notification")
    if android_notification is not None:
        where = "message.android.notification"
        _object(android_notification, where)
        _known_fields(android_notification, _ANDROID_NOTIFICATION_FIELDS, where)


def _check_apple_and_web(message: dict[str, Any]) -> None:
    apns = message.get("apns")
    if apns is not None:
        _object(apns, "message.apns")
        _known_fields(apns, _APNS_FIELDS, "message.apns")
        _string_map(apns.get("headers"), "message.apns.headers")
        payload = apns.get("payload")
        if payload is not None:
            _object(payload, "message.apns.payload")
            if "aps" in payload and not isinstance(payload["aps"], dict):
                _violation("message.apns.payload", "aps must be a JSON object", fcm_error=True)

    webpush = message.get("webpush")
    if webpush is not None:
        _object(webpush, "message.webpush")
        _known_fields(webpush, _WEBPUSH_FIELDS, "message.webpush")
        _string_map(webpush.get("headers"), "message.webpush.headers")
        _string_map(webpush.get("data"), "message.webpush.data", data=True)


def _violation(field: str, description: str, *, fcm_error: bool = False) -> NoReturn:
    raise InvalidMessage((400, bad_request_body(field, description, fcm_error=fcm_error), {}))


def _object(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        _violation(where, f"Invalid value at '{where}': expected a JSON object")


def _known_fields(obj: dict[str, Any], allowed: frozenset[str] | set[str], where: str) -> None:
    for name in obj:
        if name not in allowed:
            at = f" at '{where}'" if where else ""
            _violation(
                where,
                f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.',
            )


def _strings(obj: dict[str, Any], where: str) -> None:
    for name, value in obj.items():
        if not isinstance(value, str):
            _violation(f"{where}.{name}", f"Invalid value at '{where}.{name}' (TYPE_STRING)")


def _string_map(value: Any, where: str, *, data: bool = False) -> None:
    if value is None:
        return
    _object(value, where)
    for index, (key, item) in enumerate(value.items()):
        if not isinstance(item, str):
            field = f"{where}[{index}].value"
            _violation(field, f"Invalid value at '{field}' (TYPE_STRING), {json.dumps(item)}")
        lowered = key.lower()
        if data and (lowered in _RESERVED_DATA_KEYS or lowered.startswith(("google.", "gcm."))):
            _violation(where, f"Invalid data key: {key!r} is reserved", fcm_error=True)
