from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from canteen.core.db import unit_of_work
from canteen.core.jobs import job
from canteen.menu.service import reset_daily_stock

if TYPE_CHECKING:
    from canteen.core.container import Container


@job("menu.daily_stock_reset", max_retries=3)
async def daily_stock_reset(c: Container) -> None:
    """Refill daily stock once per canteen day. The sweep runs every few minutes; the
    first run of a new local date claims that date, so a refill happens exactly once
    however many processes run the sweep."""
    today = c.clock.now().astimezone(ZoneInfo(c.settings.timezone)).date()
    if not await c.kv.set(f"stock-reset:{today.isoformat()}", "1", 3 * 24 * 3600, nx=True):
        return
    try:
        async with unit_of_work(c.sessionmaker) as session:
            await reset_daily_stock(session)
    except BaseException:
        await c.kv.delete(f"stock-reset:{today.isoformat()}")  # let the next sweep retry
        raise
