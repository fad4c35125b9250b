"""Reports' job: the nightly fill of the daily rollup (a read would fill it anyway)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from canteen.core.db import unit_of_work
from canteen.core.jobs import job
from canteen.reports import rollup

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.reports")

BACK = 366  # days: the longest range a report reads
CHUNK = 31  # days per transaction: a first run over a year's orders is 12 short ones


@job("reports.rollup_days", max_retries=0)
async def rollup_days(c: Container) -> None:
    """Every hour (PERIODIC): the closed days of the last year that have no rollup yet.
    Safe twice and at once: days already written are skipped, and a day two runs write
    together is kept once (ON CONFLICT DO NOTHING), with the same sums."""
    async with c.sessionmaker() as session:
        stop = await rollup.first_open_day(c, session)
    first = stop - timedelta(days=BACK)
    written = 0
    while first < stop:
        upto = min(stop, first + timedelta(days=CHUNK))
        async with unit_of_work(c.sessionmaker) as session:
            written += await rollup.fill(c, session, first, upto)
        first = upto
    if written:
        log.info("reports.rollup_days: %d day(s) rolled up", written)
