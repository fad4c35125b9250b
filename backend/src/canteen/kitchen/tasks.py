"""The kitchen's jobs: re-estimating open orders as the queue moves (issue 16)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from canteen.core.db import unit_of_work
from canteen.core.jobs import job
from canteen.kitchen.reestimate import reestimate

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.kitchen")


@job("kitchen.reestimate", max_retries=0)
async def reestimate_open_orders(c: Container) -> None:
    """Every minute (PERIODIC): the open orders' estimates follow the kitchen."""
    async with unit_of_work(c.sessionmaker) as session:
        moved = await reestimate(session, c.clock.now())
    if moved:
        log.info("kitchen.reestimate: %d estimate(s) moved", moved)
