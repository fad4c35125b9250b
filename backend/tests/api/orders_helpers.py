"""Shared set-up for the order tests: a small menu written straight to the database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import time
from typing import Any

from canteen.menu import service as menu
from canteen.menu.models import Category, MenuItem, TimeSlot
from conftest import API, bearer


@dataclass
class Menu:
    dosa: uuid.UUID
    chai: uuid.UUID
    biryani: uuid.UUID  # lunch only
    samosa: uuid.UUID  # limited stock
    hidden: uuid.UUID  # switched off by the kitchen


async def seed_menu(container: Any, *, samosa_stock: int | None = 10) -> Menu:
    async with container.sessionmaker() as s, s.begin():
        allday = TimeSlot(
            code="allday",
            label="All day",
            start_time=time(0, 0),
            end_time=time(23, 59, 59),
            is_active=True,
            sort_order=0,
        )
        lunch = TimeSlot(
            code="lunch",
            label="Lunch",
            start_time=time(12, 0),
            end_time=time(15, 0),
            is_active=True,
            sort_order=1,
        )
        cat = Category(name="Mains", sort_order=0, is_active=True)
        s.add_all([allday, lunch, cat])
        await s.flush()

        def item(name: str, price: int, slots: list[TimeSlot], **kw: Any) -> MenuItem:
            values: dict[str, Any] = {
                "category_id": cat.id,
                "name": name,
                "description": name,
                "price": price,
                "diet": "veg",
                "allergens": [],
                "is_available": True,
                "prep_minutes": 10,
                "daily_stock": None,
                "stock_remaining": None,
                "sort_order": 0,
                "slots": slots,
            }
            values.update(kw)
            return MenuItem(**values)

        dosa = item("Masala Dosa", 6000, [allday, lunch], prep_minutes=12)
        chai = item("Cutting Chai", 1500, [allday, lunch], prep_minutes=3)
        biryani = item("Veg Biryani", 12000, [lunch], prep_minutes=20)
        samosa = item(
            "Samosa", 2000, [allday], daily_stock=samosa_stock, stock_remaining=samosa_stock
        )
        hidden = item("Paneer Roll", 9000, [allday], is_available=False)
        s.add_all([dosa, chai, biryani, samosa, hidden])
        await s.flush()
        config = await menu.get_config(s)
        config.delivery_fee = 2000
        config.delivery_enabled = True
        config.cash_payment_enabled = True
        config.upi_payment_enabled = True
        config.restaurant_open = True
        config.ordering_paused = False
        return Menu(dosa.id, chai.id, biryani.id, samosa.id, hidden.id)


async def set_config(container: Any, **values: Any) -> None:
    async with container.sessionmaker() as s, s.begin():
        config = await menu.get_config(s)
        for k, v in values.items():
            setattr(config, k, v)


def order_body(*lines: tuple[uuid.UUID, int], **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "items": [{"menu_item_id": str(i), "quantity": q} for i, q in lines],
        "order_type": "pickup",
        "payment_method": "cash",
        "time_slot": "allday",
    }
    body.update(kw)
    return body


async def place(
    client: Any, session: dict[str, Any], body: dict[str, Any], key: str | None = None
) -> Any:
    headers = bearer(session)
    headers["X-Idempotency-Key"] = key or str(uuid.uuid4())
    return await client.post(f"{API}/orders", json=body, headers=headers)
