"""Logs: JSON lines for machines (production, tests) or short coloured lines for a person
(`make run`); either way every line carries the request id and no `token=` value."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import TextIO

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

_TOKEN_RE = re.compile(r"((?:access_|refresh_)?token=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide token query values: WebSocket and SSE URLs carry JWTs in `?token=`."""
    return _TOKEN_RE.sub(r"\1[REDACTED]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update({k: redact(v) if isinstance(v, str) else v for k, v in extra.items()})
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class ConsoleFormatter(logging.Formatter):
    """`HH:MM:SS LEVEL request-id message key=value …`, coloured when `color` is true."""

    _LEVEL_COLOURS = {
        "DEBUG": "\033[36m",  # cyan
        "INFO": "\033[32m",  # green
        "WARNING": "\033[33m",  # yellow
        "ERROR": "\033[31m",  # red
        "CRITICAL": "\033[1;31m",  # bold red
    }
    _DIM = "\033[2m"
    _RESET = "\033[0m"

    def __init__(self, color: bool = False) -> None:
        super().__init__()
        self.color = color

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        level = "WARN" if record.levelname == "WARNING" else record.levelname
        rid = getattr(record, "request_id", None) or request_id_var.get()
        # A generated id is a UUID; its first 8 characters tell requests apart on a screen.
        rid_text = "-" if not rid else rid[:8] if len(rid) == 36 else rid
        parts = [redact(record.getMessage())]
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            for key, value in extra.items():
                shown = redact(value) if isinstance(value, str) else value
                parts.append(f"{self._dim(key + '=')}{shown}")
        line = " ".join(
            [
                self._dim(when),
                self._level(record.levelname, f"{level:<5}"),
                self._dim(f"{rid_text:<8}"),
                *parts,
            ]
        )
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line

    def _dim(self, text: str) -> str:
        return f"{self._DIM}{text}{self._RESET}" if self.color else text

    def _level(self, levelname: str, text: str) -> str:
        colour = self._LEVEL_COLOURS.get(levelname)
        return f"{colour}{text}{self._RESET}" if self.color and colour else text


def wants_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def make_formatter(fmt: str, stream: TextIO) -> logging.Formatter:
    if fmt == "console":
        return ConsoleFormatter(color=wants_colour(stream))
    return JsonFormatter()


class _RedactFilter(logging.Filter):
    """Applied to third-party loggers (uvicorn) whose messages may carry URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


_configured = False


def configure_logging(level: str = "INFO", fmt: str | None = None) -> None:
    """`fmt` is `console` or `json`; by default CANTEEN_LOG_FORMAT's (settings)."""
    global _configured
    if _configured:
        return
    _configured = True
    if fmt is None:
        from canteen.settings import get_settings

        fmt = get_settings().resolved_log_format
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter(fmt, sys.stderr))
    handler.addFilter(_RedactFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        # Our middleware writes the access line; uvicorn's own would double every request.
        lg.propagate = name != "uvicorn.access"
        lg.addFilter(_RedactFilter())
