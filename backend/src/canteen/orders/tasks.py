"""Orders' jobs: the no-show sweep and the re-estimate of open orders (issue 16)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from canteen.core.db import unit_of_work
from canteen.core.jobs import job
from canteen.orders import no_shows
from canteen.orders.reestimate import reestimate

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.orders")


@job("orders.sweep_not_collected", max_retries=0)
async def sweep_not_collected(c: Container) -> None:
    """Ready pickup orders past their collection window become not_collected, each in
    its own transaction under the order's row lock: two workers sweeping at once move
    each order once (the later one finds it moved). A run that dies leaves the rest
    for the next one (the sweep runs every 30 seconds, PERIODIC)."""
    async with c.sessionmaker() as session:
        candidates = await no_shows.uncollected(c, session)
    moved = 0
    for order_id in candidates:
        async with unit_of_work(c.sessionmaker) as session:
            moved += await no_shows.mark_not_collected(c, session, order_id)
    if moved:
        log.info("orders.sweep_not_collected: %d order(s) not collected", moved)


# Named for what it follows (the kitchen's pace); it moves orders, so it is orders' job.
@job("kitchen.reestimate", max_retries=0)
async def reestimate_open_orders(c: Container) -> None:
    """Every minute (PERIODIC): the open orders' estimates follow the kitchen."""
    async with unit_of_work(c.sessionmaker) as session:
        moved = await reestimate(session, c.clock.now())
    if moved:
        log.info("kitchen.reestimate: %d estimate(s) moved", moved)
