"""The OpenAPI pattern of a stream's resume position (Last-Event-ID, ?last_event_id) is
what the server accepts: realtime.sse.parse_seq is the rule, the pattern says it.

It used to allow at most 18 digits while the server took 19 (up to 2**63 - 1), so a
client following the document refused positions the server would resume from.
"""

from __future__ import annotations

import random
import re

import pytest

from canteen.core.errors import ValidationFailed
from canteen.core.openapi import MAX_SEQ, PARAMETERS, digits_up_to
from canteen.realtime.sse import parse_seq

STREAMS = ("realtime-kitchen_stream", "realtime-menu_stream")
EDGES = [
    "0",
    "1",
    "007",
    "9" * 18,
    "1" + "0" * 18,
    str(MAX_SEQ),
    str(MAX_SEQ - 1),
    str(MAX_SEQ + 1),
    "9" * 19,
    "0" * 19,
    "0" * 18 + "1",
    "1" + "0" * 19,
    "",
    "-1",
    "+1",
    " 1",
    "1 ",
    "1_0",
    "1e3",
    "abc",
    "\u0661\u0662",  # Arabic-Indic digits: int() takes them, the server does not
]


def _accepted(value: str) -> bool:
    try:
        parse_seq(value)
    except ValidationFailed:
        return False
    return True


def _pattern(operation: str, name: str) -> str:
    return str(PARAMETERS[operation][name]["schema"]["pattern"])


@pytest.mark.parametrize("operation", STREAMS)
@pytest.mark.parametrize("name", ["Last-Event-ID", "last_event_id"])
def test_the_pattern_accepts_exactly_what_the_server_does(operation, name):
    pattern = _pattern(operation, name)
    rng = random.Random(20261204)
    samples = EDGES + [str(rng.randrange(0, 2**64)) for _ in range(2000)]
    samples += [str(rng.randrange(0, 10 ** rng.randrange(1, 21))) for _ in range(2000)]
    for value in samples:
        assert (re.search(pattern, value) is not None) is _accepted(value), value


def test_the_largest_seq_is_allowed_and_one_more_is_not():
    pattern = _pattern("realtime-kitchen_stream", "Last-Event-ID")
    assert re.search(pattern, str(MAX_SEQ))
    assert not re.search(pattern, str(MAX_SEQ + 1))


@pytest.mark.parametrize("limit", [0, 5, 9, 10, 19, 100, 305, 1000, 98765])
def test_digits_up_to_is_a_number_check(limit):
    pattern = digits_up_to(limit)
    width = len(str(limit))
    for n in range(0, 10 ** (width + 1)):
        for text in {str(n), str(n).zfill(width)}:
            expected = len(text) <= width and int(text) <= limit
            assert (re.search(pattern, text) is not None) is expected, (limit, text)
