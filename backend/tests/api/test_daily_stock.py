"""The daily stock refill runs once per canteen day, whoever runs the sweep."""

from __future__ import annotations

from orders_helpers import seed_menu

from canteen.menu.models import MenuItem
from canteen.menu.tasks import daily_stock_reset


async def test_stock_refills_once_per_day(container, clock):
    m = await seed_menu(container, samosa_stock=10)
    async with container.sessionmaker() as s, s.begin():
        (await s.get(MenuItem, m.samosa)).stock_remaining = 2
    await daily_stock_reset(container)
    async with container.sessionmaker() as s:
        assert (await s.get(MenuItem, m.samosa)).stock_remaining == 10
    async with container.sessionmaker() as s, s.begin():
        (await s.get(MenuItem, m.samosa)).stock_remaining = 4
    await daily_stock_reset(container)  # same day: nothing
    async with container.sessionmaker() as s:
        assert (await s.get(MenuItem, m.samosa)).stock_remaining == 4
    clock.advance(24 * 3600)
    await daily_stock_reset(container)  # next day: refilled
    async with container.sessionmaker() as s:
        assert (await s.get(MenuItem, m.samosa)).stock_remaining == 10
