"""What orders needs from payments, as a narrow port: orders imports nothing of payments.

Payments implements `PaymentsPort` (`canteen.payments.port`) and the composition root
connects it (`canteen.bootstrap`), as it registers the domains' reactions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.orders.models import Order
from canteen.orders.schemas import PaymentInfo, RefundOut


@dataclass(frozen=True)
class PaymentFacts:
    """An order's payment as its customer sees it."""

    payment: PaymentInfo | None = None  # None: none started, or abandoned for cash
    refund: RefundOut | None = None
    payable: bool = False  # a gateway order the customer can (still) pay on


NO_PAYMENT = PaymentFacts()


class PaymentsPort(Protocol):
    async def facts(
        self, c: Container, session: AsyncSession, orders: Sequence[Order]
    ) -> dict[uuid.UUID, PaymentFacts]:
        """Each order's payment facts (orders without any may be left out)."""
        ...

    async def start_checkout(
        self, c: Container, session: AsyncSession, order: Order
    ) -> PaymentFacts:
        """Create the gateway order of a just-placed UPI order, and say what its customer
        sees of it; a gateway outage leaves the order without one (the customer retries),
        it does not raise."""
        ...


_connected: PaymentsPort | None = None


def connect_payments(port: PaymentsPort) -> None:
    global _connected
    _connected = port


def payments() -> PaymentsPort:
    if _connected is None:
        raise RuntimeError("payments is not connected: canteen.bootstrap.build_container does it")
    return _connected
