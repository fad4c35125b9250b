"""The cart: kept on the device (design §10.2), validated by the server at checkout.

Lines are keyed by menu item; every change is saved at once through the storage
interface, so the cart survives a restart of the app. A line's price is the one the
menu showed when the dish was added: checkout sends it, and if the server's price has
moved since, the server refuses (409 PRICE_CHANGED) and the app asks before placing at
the new price. A re-read menu therefore never changes a line's price silently; the
cart shows the new price beside it (`price_now`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from canteen_app.storage import KeyValueStore
from canteen_client import CartLine, MenuItem, OrderLine, PublicConfig

MAX_QUANTITY = 20  # the API's limit of one dish per order
MAX_LINES = 30  # the API's limit per order
ONE_DISH_LIMIT = f"At most {MAX_QUANTITY} of one dish"
STORAGE_KEY = "cart"
VERSION = 1


@dataclass(frozen=True)
class CartItem:
    menu_item_id: str
    name: str
    unit_price: int
    quantity: int
    diet: str = ""
    notes: str | None = None

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CartItem:
        return cls(
            menu_item_id=str(d["menu_item_id"]),
            name=str(d["name"]),
            unit_price=int(d["unit_price"]),
            quantity=max(1, min(MAX_QUANTITY, int(d["quantity"]))),
            diet=str(d.get("diet") or ""),
            notes=str(d["notes"]) if d.get("notes") else None,
        )


class CartFull(ValueError):
    """More lines than one order may have."""


class Cart:
    def __init__(self, store: KeyValueStore) -> None:
        self.store = store
        self._lines: dict[str, CartItem] = {}
        self._listeners: list[Callable[[], None]] = []

    # ---- reading ---------------------------------------------------------------------

    @property
    def lines(self) -> list[CartItem]:
        return list(self._lines.values())

    def get(self, menu_item_id: str) -> CartItem | None:
        return self._lines.get(menu_item_id)

    def quantity_of(self, menu_item_id: str) -> int:
        line = self._lines.get(menu_item_id)
        return line.quantity if line else 0

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self._lines.values())

    @property
    def subtotal(self) -> int:
        return sum(line.line_total for line in self._lines.values())

    @property
    def is_empty(self) -> bool:
        return not self._lines

    def sdk_lines(self) -> list[CartLine]:
        """The order's lines with the price each showed (the server refuses another)."""
        return [
            CartLine(x.menu_item_id, x.quantity, x.notes, unit_price=x.unit_price)
            for x in self._lines.values()
        ]

    def would_exceed(self, menu_item_id: str, quantity: int = 1) -> bool:
        """Adding `quantity` more would pass the limit of one dish (it is capped there)."""
        return self.quantity_of(menu_item_id) + quantity > MAX_QUANTITY

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    # ---- persistence -----------------------------------------------------------------

    async def load(self) -> None:
        data = await self.store.get(STORAGE_KEY)
        lines: dict[str, CartItem] = {}
        if isinstance(data, dict) and isinstance(data.get("lines"), list):
            for raw in data["lines"][:MAX_LINES]:
                try:
                    line = CartItem.from_json(raw)
                except (KeyError, TypeError, ValueError):
                    continue  # a damaged line is dropped, the rest is kept
                lines[line.menu_item_id] = line
        self._lines = lines
        self._changed()

    async def _save(self) -> None:
        await self.store.set(
            STORAGE_KEY, {"version": VERSION, "lines": [x.to_json() for x in self._lines.values()]}
        )
        self._changed()

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    # ---- changes ---------------------------------------------------------------------

    async def add(self, item: MenuItem, quantity: int = 1, notes: str | None = None) -> CartItem:
        line = self._lines.get(item.id)
        if line is None and len(self._lines) >= MAX_LINES:
            raise CartFull(f"An order can have at most {MAX_LINES} different items")
        current = line.quantity if line else 0
        new = CartItem(
            menu_item_id=item.id,
            name=item.name,
            unit_price=item.price,
            quantity=max(1, min(MAX_QUANTITY, current + quantity)),
            diet=item.diet,
            notes=(notes.strip() or None) if notes is not None else (line.notes if line else None),
        )
        self._lines[item.id] = new
        await self._save()
        return new

    async def add_line(self, line: CartItem) -> None:
        existing = self._lines.get(line.menu_item_id)
        if existing is None and len(self._lines) >= MAX_LINES:
            raise CartFull(f"An order can have at most {MAX_LINES} different items")
        quantity = line.quantity + (existing.quantity if existing else 0)
        self._lines[line.menu_item_id] = replace(line, quantity=min(MAX_QUANTITY, quantity))
        await self._save()

    async def set_quantity(self, menu_item_id: str, quantity: int) -> None:
        line = self._lines.get(menu_item_id)
        if line is None:
            return
        if quantity <= 0:
            del self._lines[menu_item_id]
        else:
            self._lines[menu_item_id] = replace(line, quantity=min(MAX_QUANTITY, quantity))
        await self._save()

    async def set_notes(self, menu_item_id: str, notes: str | None) -> None:
        line = self._lines.get(menu_item_id)
        if line is not None:
            self._lines[menu_item_id] = replace(line, notes=(notes or "").strip() or None)
            await self._save()

    async def remove(self, menu_item_ids: Iterable[str]) -> list[CartItem]:
        removed = [self._lines.pop(i) for i in list(menu_item_ids) if i in self._lines]
        if removed:
            await self._save()
        return removed

    async def clear(self) -> None:
        self._lines.clear()
        await self._save()

    async def sync_with_menu(self, items: Iterable[MenuItem]) -> None:
        """Take the menu's current names for the lines it lists (not its prices: the
        student confirms a new price at checkout, see the module docstring)."""
        by_id = {i.id: i for i in items}
        changed = False
        for key, line in list(self._lines.items()):
            item = by_id.get(key)
            if item is None:
                continue
            if (item.name, item.diet) != (line.name, line.diet):
                self._lines[key] = replace(line, name=item.name, diet=item.diet)
                changed = True
        if changed:
            await self._save()

    async def apply_prices(self, prices: dict[str, int]) -> None:
        """Take the prices the student accepted (or was shown) after a PRICE_CHANGED."""
        changed = False
        for key, price in prices.items():
            line = self._lines.get(key)
            if line is not None and line.unit_price != price:
                self._lines[key] = replace(line, unit_price=price)
                changed = True
        if changed:
            await self._save()


def format_money(paise: int) -> str:
    rupees, rest = divmod(paise, 100)
    return f"₹{rupees:,}" if rest == 0 else f"₹{rupees:,}.{rest:02d}"


def limit_notes(config: PublicConfig | None) -> list[str]:
    """The canteen's limits on one order, said before checkout."""
    notes: list[str] = []
    if config is not None and config.max_items_per_order:
        notes.append(f"At most {config.max_items_per_order} items per order")
    if config is not None and config.max_order_total:
        notes.append(f"Orders up to {format_money(config.max_order_total)}")
    return notes


def limit_problem(count: int, total: int, config: PublicConfig | None) -> str | None:
    """Why checkout is off while the cart is over a limit (the server refuses it too:
    409 ORDER_TOO_LARGE), or None. `total` includes the delivery fee, as the API's."""
    if config is None:
        return None
    if config.max_items_per_order and count > config.max_items_per_order:
        return (
            f"At most {config.max_items_per_order} items per order: your cart has {count}. "
            "Remove some to check out."
        )
    if config.max_order_total and total > config.max_order_total:
        return (
            f"Orders up to {format_money(config.max_order_total)}: yours comes to "
            f"{format_money(total)}. Remove some to check out."
        )
    return None


def lines_from_order(lines: Iterable[OrderLine]) -> list[CartItem]:
    """Cart lines for a reorder (names and prices are refreshed from the menu later)."""
    return [
        CartItem(
            menu_item_id=x.menu_item_id,
            name=x.name,
            unit_price=x.unit_price,
            quantity=min(MAX_QUANTITY, x.quantity),
            notes=x.notes,
        )
        for x in lines
    ]
