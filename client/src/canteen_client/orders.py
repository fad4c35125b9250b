"""Orders: idempotent placement (design §6.3), history, cancel, feedback.

A `Checkout` is one checkout attempt: it owns one idempotency key, sent as
`X-Idempotency-Key` with every `place()` of that attempt, so a retry (automatic, after a
5xx or a dropped connection, or the user tapping again) can never create a second
order: the server answers the retry with the order the first request created. A new
cart (or a changed one) is a new `Checkout`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from canteen_client.models import Order, Page

if TYPE_CHECKING:
    from canteen_client.client import CanteenClient

# 409 IDEMPOTENCY_IN_PROGRESS: the first request with this key is still running on the
# server (we gave up waiting for it); trying again shortly returns its order.
PLACEMENT_RETRY_CODES = frozenset({"IDEMPOTENCY_IN_PROGRESS"})


@dataclass(frozen=True, slots=True)
class CartLine:
    menu_item_id: str
    quantity: int = 1
    notes: str | None = None
    # The price the customer was shown (paise): the server refuses with 409 PRICE_CHANGED
    # instead of charging a different one. None: the server's price, unasked (older apps).
    unit_price: int | None = None
    # Ids of the chosen options (MenuItem.option_groups); unit_price then includes them.
    options: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {"menu_item_id": self.menu_item_id, "quantity": self.quantity}
        if self.notes:
            line["notes"] = self.notes
        if self.unit_price is not None:
            line["unit_price"] = self.unit_price
        if self.options:
            line["options"] = list(self.options)
        return line


LineLike = CartLine | tuple[str | uuid.UUID, int] | tuple[str | uuid.UUID, int, str | None]


def _line(value: LineLike) -> CartLine:
    if isinstance(value, CartLine):
        return value
    if len(value) == 2:
        return CartLine(str(value[0]), int(value[1]))
    return CartLine(str(value[0]), int(value[1]), value[2])


class Checkout:
    """One checkout attempt: a fixed order body and its idempotency key."""

    def __init__(
        self, client: CanteenClient, body: dict[str, Any], idempotency_key: str | None = None
    ) -> None:
        self._client = client
        self.body = body
        self.idempotency_key = idempotency_key or str(uuid.uuid4())
        self.order: Order | None = None
        self.created: bool | None = None  # False: the server replayed an earlier placement

    async def place(self) -> Order:
        """Place the order (or get the one this attempt already placed). Retried on
        5xx/network errors with the same key. Raises `ConflictFailure` (e.g.
        ITEM_UNAVAILABLE with `unavailable_items`), `ValidationFailure`, ..."""
        response = await self._client.request(
            "POST",
            "/orders",
            json=self.body,
            headers={"X-Idempotency-Key": self.idempotency_key},
            retry=True,
            retry_codes=PLACEMENT_RETRY_CODES,
        )
        self.order = Order.from_json(response.json()["data"])
        self.created = response.status_code == 201
        return self.order


class OrdersAPI:
    def __init__(self, client: CanteenClient) -> None:
        self._client = client

    def checkout(
        self,
        items: Iterable[LineLike],
        *,
        order_type: str = "pickup",
        payment_method: str = "cash",
        time_slot: str | None = None,
        pickup_window: str | None = None,
        delivery_address: str | None = None,
        instructions: str | None = None,
        expected_total: int | None = None,
        idempotency_key: str | None = None,
    ) -> Checkout:
        """Start a checkout attempt (nothing is sent until `place()`).

        `expected_total` (paise, delivery fee included) and the lines' `unit_price` are
        what the customer saw; if the server's differ, `place()` raises a
        `ConflictFailure` PRICE_CHANGED (`price_changes`, `total_change`) and nothing is
        placed. Confirming the new prices is a new attempt (the refused key is free)."""
        body: dict[str, Any] = {
            "items": [_line(i).to_json() for i in items],
            "order_type": order_type,
            "payment_method": payment_method,
        }
        if time_slot is not None:
            body["time_slot"] = time_slot
        if pickup_window is not None:  # "13:15": a window of the slot (menu.windows)
            body["pickup_window"] = pickup_window
        if delivery_address is not None:
            body["delivery_address"] = delivery_address
        if instructions is not None:
            body["instructions"] = instructions
        if expected_total is not None:
            body["expected_total"] = expected_total
        return Checkout(self._client, body, idempotency_key)

    async def place(self, items: Iterable[LineLike], **kwargs: Any) -> Order:
        """`checkout(...)` and `place()` in one call."""
        return await self.checkout(items, **kwargs).place()

    async def orders(self, *, page: int = 1, per_page: int = 20) -> Page[Order]:
        """The signed-in customer's orders, newest first."""
        response = await self._client.request(
            "GET", "/orders", params={"page": page, "per_page": per_page}
        )
        return Page.from_envelope(response.json(), Order.from_json)

    async def order(self, order_id: str | uuid.UUID) -> Order:
        return Order.from_json(await self._client.data("GET", f"/orders/{order_id}"))

    async def cancel(self, order_id: str | uuid.UUID, reason: str | None = None) -> Order:
        """Cancel while the kitchen has not started (409 INVALID_TRANSITION after)."""
        body = {"reason": reason} if reason else None
        return Order.from_json(
            await self._client.data("POST", f"/orders/{order_id}/cancel", json=body)
        )

    async def feedback(
        self, order_id: str | uuid.UUID, rating: int, comment: str | None = None
    ) -> Order:
        """Rate a completed order (1-5)."""
        body: dict[str, Any] = {"rating": rating}
        if comment is not None:
            body["comment"] = comment
        return Order.from_json(
            await self._client.data("POST", f"/orders/{order_id}/feedback", json=body)
        )
