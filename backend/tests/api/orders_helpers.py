"""Shared set-up for the order tests: a small menu written straight to the database
(by the test kit's `write_menu`, which the SDK suite's menu shares)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from canteen.core.db import utcnow
from canteen.menu import service as menu
from canteen.orders.order_rows import line_values
from canteen.payments.models import Payment, PaymentState
from canteen_testkit.menu import Dish, write_menu
from conftest import API, bearer, login_customer


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


async def placed_order(
    client: Any, container: Any, *lines: tuple[uuid.UUID, int], customer: Any = None
) -> uuid.UUID:
    """An order placed by `customer` (or a new one), 201 checked: its id."""
    customer = customer or await login_customer(client, container)
    r = await place(client, customer, order_body(*lines))
    assert r.status_code == 201, r.text
    return uuid.UUID(r.json()["data"]["id"])


async def order_with_payment(
    client: Any, container: Any, customer: Any = None, menu: Menu | None = None
) -> tuple[uuid.UUID, uuid.UUID]:
    """A placed order with a gateway payment row written beside it: (order id, payment id).
    The menu is seeded unless given."""
    menu = menu or await seed_menu(container)
    order_id = await placed_order(client, container, (menu.dosa, 1), customer=customer)
    payment = new_payment(order_id)
    async with container.sessionmaker() as s, s.begin():
        s.add(payment)
    return order_id, payment.id


def new_payment(order_id: uuid.UUID) -> Payment:
    """A gateway payment for the order, not added to any session yet."""
    return Payment(
        order_id=order_id,
        gateway="razorpay",
        gateway_order_id="order_" + uuid.uuid4().hex[:14],
        amount=6000,
        currency="INR",
        status=PaymentState.created,
        expires_at=utcnow() + timedelta(minutes=10),
    )


def a_line(order_id: uuid.UUID, name: str, unit_price: int, prep_minutes: int) -> dict[str, Any]:
    """One portion of a dish as an order's line row, for a dish no menu holds."""
    return line_values(
        id=uuid.uuid4(),
        order_id=order_id,
        position=0,
        menu_item_id=uuid.uuid4(),
        name=name,
        unit_price=unit_price,
        quantity=1,
        line_total=unit_price,
        notes=None,
        prep_minutes=prep_minutes,
        options=[],
    )
