"""Shared set-up for the order tests: a small menu written straight to the database
(by the test kit's `write_menu`, which the SDK suite's menu shares)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from canteen.menu import service as menu
from canteen_testkit.menu import Dish, write_menu
from conftest import API, bearer


@dataclass
class Menu:
    dosa: uuid.UUID
    chai: uuid.UUID
    biryani: uuid.UUID  # lunch only
    samosa: uuid.UUID  # limited stock
    hidden: uuid.UUID  # switched off by the kitchen


async def seed_menu(container: Any, *, samosa_stock: int | None = 10) -> Menu:
    ids = await write_menu(
        container,
        categories=["Mains"],
        dishes=[
            Dish("Masala Dosa", 6000, "Mains", ("allday", "lunch"), {"prep_minutes": 12}),
            Dish("Cutting Chai", 1500, "Mains", ("allday", "lunch"), {"prep_minutes": 3}),
            Dish("Veg Biryani", 12000, "Mains", ("lunch",), {"prep_minutes": 20}),
            Dish(
                "Samosa",
                2000,
                "Mains",
                ("allday",),
                {"daily_stock": samosa_stock, "stock_remaining": samosa_stock},
            ),
            Dish("Paneer Roll", 9000, "Mains", ("allday",), {"is_available": False}),
        ],
        config={
            "delivery_fee": 2000,
            "delivery_enabled": True,
            "cash_payment_enabled": True,
            "upi_payment_enabled": True,
            "restaurant_open": True,
            "ordering_paused": False,
        },
    )
    return Menu(
        ids["Masala Dosa"],
        ids["Cutting Chai"],
        ids["Veg Biryani"],
        ids["Samosa"],
        ids["Paneer Roll"],
    )


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


async def register_device(client: Any, customer: dict[str, Any]) -> str:
    """A push token registered for the customer's device; returns the token."""
    token = "device-" + uuid.uuid4().hex
    r = await client.post(
        f"{API}/users/device-token",
        json={"token": token, "platform": "android"},
        headers=bearer(customer),
    )
    assert r.status_code == 200, r.text
    return token
