from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from canteen.core.db import unit_of_work
from canteen.core.jobs import job
from canteen.core.once import mark_once
from canteen.menu.service import reset_daily_stock

if TYPE_CHECKING:
    from canteen.core.container import Container


@job("menu.daily_stock_reset", max_retries=3)
async def daily_stock_reset(c: Container) -> None:
    """Refill daily stock once per canteen day. The sweep runs every few minutes; the
    first run of a new local date marks that date in the refill's own transaction, so a
    refill happens exactly once however many processes run the sweep, and a worker
    killed mid-refill leaves no mark behind (the next sweep refills)."""
    today = c.clock.now().astimezone(ZoneInfo(c.settings.timezone)).date()
    async with unit_of_work(c.sessionmaker) as session:
        if await mark_once(session, f"menu.daily_stock_reset:{today.isoformat()}"):
            await reset_daily_stock(session)
