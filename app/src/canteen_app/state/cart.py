"""The cart: kept on the device (design §10.2), validated by the server at checkout.

Lines are keyed by menu item; every change is saved at once through the storage
interface, so the cart survives a restart of the app. Prices here are what the menu
showed; the server's prices are the only prices (the order's total comes from it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from canteen_app.storage import KeyValueStore
from canteen_client import CartLine, MenuItem, OrderLine

MAX_QUANTITY = 20  # the API's limit per line
MAX_LINES = 30  # the API's limit per order
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
        return [CartLine(x.menu_item_id, x.quantity, x.notes) for x in self._lines.values()]

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
        """Take the menu's current names and prices for the lines it lists."""
        by_id = {i.id: i for i in items}
        changed = False
        for key, line in list(self._lines.items()):
            item = by_id.get(key)
            if item is None:
                continue
            if (item.name, item.price, item.diet) != (line.name, line.unit_price, line.diet):
                self._lines[key] = replace(
                    line, name=item.name, unit_price=item.price, diet=item.diet
                )
                changed = True
        if changed:
            await self._save()


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
