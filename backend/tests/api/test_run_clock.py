"""A test run sees one hour of the canteen's day whenever it runs (the test kit's
CANTEEN_TEST_LOCAL_TIME, 10:00 by default): the all-day slots the tests order from end at
midnight, and a run late in the evening found their last windows full."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from canteen.core.clock import ManualClock
from canteen.settings import Settings
from canteen_testkit import stack


def test_the_runs_clocks_start_at_its_canteen_time(clock: ManualClock, settings: Settings):
    if stack.LOCAL_TIME == "real":
        pytest.skip("CANTEEN_TEST_LOCAL_TIME=real: this run keeps the real time")
    hour, minute = (int(part) for part in stack.LOCAL_TIME.split(":"))
    local = clock.now().astimezone(ZoneInfo(settings.timezone))
    start = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    # The run began at that time; it has been running for less than three hours since.
    assert start <= local < start + timedelta(hours=3), local
    assert settings.clock_offset_seconds == stack.clock_offset()
