"""Order history, reorder and feedback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from canteen_app.state.cart import Cart, CartFull, lines_from_order, missing_options
from canteen_client import CanteenClient, MenuItem, Order, OrderAction


@dataclass(frozen=True)
class ReorderResult:
    added: list[str]
    skipped: list[str]  # names of items that cannot be ordered now
    # Dishes whose chosen options are gone or off: (menu item id, what to say); the
    # student chooses again on the dish's page.
    choose_again: list[tuple[str, str]] = field(default_factory=list)


def needs_feedback(order: Order) -> bool:
    return order.can(OrderAction.feedback)


class OrdersState:
    def __init__(self, api: CanteenClient) -> None:
        self.api = api
        self.orders: list[Order] = []
        self.total = 0
        self.page = 0
        self.per_page = 20
        self.loaded = False

    @property
    def has_more(self) -> bool:
        return len(self.orders) < self.total

    async def load(self) -> list[Order]:
        page = await self.api.orders.orders(page=1, per_page=self.per_page)
        self.orders, self.total, self.page = list(page.items), page.total, 1
        self.loaded = True
        return self.orders

    async def load_more(self) -> list[Order]:
        page = await self.api.orders.orders(page=self.page + 1, per_page=self.per_page)
        known = {o.id for o in self.orders}
        self.orders += [o for o in page.items if o.id not in known]
        self.total, self.page = page.total, page.page
        return self.orders

    def replace(self, order: Order) -> None:
        self.orders = [order if o.id == order.id else o for o in self.orders]

    async def reorder(self, order: Order, menu: Sequence[MenuItem], cart: Cart) -> ReorderResult:
        """Put the order's items back in the cart, at today's names and prices; items not
        orderable in the menu being shown are left out and named."""
        by_id = {i.id: i for i in menu}
        added: list[str] = []
        skipped: list[str] = []
        choose_again: list[tuple[str, str]] = []
        for line in lines_from_order(order.items):
            item = by_id.get(line.menu_item_id)
            if item is None or not item.orderable:
                skipped.append(line.name)
                continue
            gone = missing_options(line, item)
            if gone:
                said = ", ".join(gone)
                choose_again.append(
                    (item.id, f"{item.name}: {said} is no longer available; choose again")
                )
                continue
            current = {o.id: o for g in item.option_groups for o in g.options}
            try:
                await cart.add(
                    item, line.quantity, line.notes, [current[o.id] for o in line.options]
                )
            except CartFull:
                skipped.append(line.name)
                continue
            added.append(item.name)
        return ReorderResult(added, skipped, choose_again)

    async def feedback(self, order_id: str, rating: int, comment: str | None) -> Order:
        if not 1 <= rating <= 5:
            raise ValueError("rating must be 1-5")
        order = await self.api.orders.feedback(order_id, rating, (comment or "").strip() or None)
        self.replace(order)
        return order
