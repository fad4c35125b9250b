"""CANTEEN_LOG_FORMAT: short human lines in development, JSON in production and tests."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from canteen.core.logging import (
    ConsoleFormatter,
    JsonFormatter,
    make_formatter,
    request_id_var,
)
from canteen.settings import Settings

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _record(msg: str = "GET %s %s", args: tuple[object, ...] = ("/api/v1/menu", 200), **fields):
    record = logging.LogRecord("canteen.access", logging.INFO, __file__, 1, msg, args, None)
    record.created = 1_700_000_000.0
    if fields:
        record.fields = fields
    return record


@pytest.mark.parametrize(
    ("env", "explicit", "expected"),
    [
        ("development", None, "console"),
        ("test", None, "json"),
        ("production", None, "json"),
        ("development", "json", "json"),
        ("test", "console", "console"),
    ],
)
def test_log_format_setting(monkeypatch, env, explicit, expected):
    monkeypatch.setenv("CANTEEN_ENV", env)
    if explicit:
        monkeypatch.setenv("CANTEEN_LOG_FORMAT", explicit)
    else:
        monkeypatch.delenv("CANTEEN_LOG_FORMAT", raising=False)
    assert Settings().resolved_log_format == expected


def test_log_format_refuses_unknown_values(monkeypatch):
    monkeypatch.setenv("CANTEEN_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        Settings()


def test_console_line_is_time_level_request_id_message_fields():
    token = request_id_var.set("0b7c9a52-1111-4222-8333-444455556666")
    try:
        line = ConsoleFormatter(color=False).format(_record(duration_ms=3.2, status=200))
    finally:
        request_id_var.reset(token)
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d INFO  0b7c9a52 GET /api/v1/menu 200 duration_ms=3\.2 status=200", line
    ), line


def test_console_line_keeps_a_short_client_request_id_and_marks_a_missing_one():
    token = request_id_var.set("trace-7")
    try:
        assert " trace-7  GET " in ConsoleFormatter().format(_record())
    finally:
        request_id_var.reset(token)
    assert " -        GET " in ConsoleFormatter().format(_record())


def test_console_line_redacts_tokens_in_message_and_fields():
    record = _record("GET %s", ("/api/v1/orders/x/ws?token=eyJhbGciOi.secret",), url="a?token=abc")
    line = ConsoleFormatter().format(record)
    assert "eyJhbGciOi" not in line and "abc" not in line
    assert "token=[REDACTED]" in line


def test_console_colours_only_when_asked():
    record = _record()
    record.levelno, record.levelname = logging.WARNING, "WARNING"
    plain = ConsoleFormatter(color=False).format(record)
    coloured = ConsoleFormatter(color=True).format(record)
    assert "\x1b[" not in plain
    assert "\x1b[33mWARN " in coloured
    assert ANSI.sub("", coloured) == plain


def test_console_shows_the_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "canteen", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    line = ConsoleFormatter().format(record)
    assert line.splitlines()[0].endswith("ERROR -        failed")
    assert "RuntimeError: boom" in line


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_make_formatter_colours_a_terminal_unless_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert isinstance(make_formatter("json", _Tty()), JsonFormatter)
    tty = make_formatter("console", _Tty())
    assert isinstance(tty, ConsoleFormatter) and tty.color
    pipe = make_formatter("console", io.StringIO())
    assert isinstance(pipe, ConsoleFormatter) and not pipe.color
    monkeypatch.setenv("NO_COLOR", "1")
    assert not make_formatter("console", _Tty()).color


def test_json_lines_are_unchanged():
    entry = json.loads(JsonFormatter().format(_record(duration_ms=1.5)))
    assert entry["msg"] == "GET /api/v1/menu 200" and entry["duration_ms"] == 1.5
    assert entry["level"] == "info" and entry["logger"] == "canteen.access"
