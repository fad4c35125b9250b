"""The cart: kept on the device (design §10.2), validated by the server at checkout.

Lines are keyed by menu item and chosen options (the same dish with other options is
another line); every change is saved at once through the storage interface, so the cart
survives a restart of the app. A line's price is the one the
menu showed when the dish was added: checkout sends it, and if the server's price has
moved since, the server refuses (409 PRICE_CHANGED) and the app asks before placing at
the new price. A re-read menu therefore never changes a line's price silently; the
cart shows the new price beside it (`price_now`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from canteen_app.storage import KeyValueStore
from canteen_client import CartLine, MenuItem, OrderLine, PublicConfig
from canteen_client.models import MenuOption

MAX_QUANTITY = 20  # the API's limit of one dish per order
MAX_LINES = 30  # the API's limit per order
ONE_DISH_LIMIT = f"At most {MAX_QUANTITY} of one dish"
STORAGE_KEY = "cart"
VERSION = 1


@dataclass(frozen=True)
class CartOption:
    """A chosen option, as the menu showed it when the dish was added."""

    id: str
    name: str
    price_delta: int = 0


@dataclass(frozen=True)
class CartItem:
    menu_item_id: str
    name: str
    unit_price: int  # the dish's price plus its options', as shown
    quantity: int
    diet: str = ""
    notes: str | None = None
    options: tuple[CartOption, ...] = ()

    @property
    def key(self) -> str:
        """The line's identity: the dish, and its options whatever order they were picked."""
        if not self.options:
            return self.menu_item_id
        return self.menu_item_id + "|" + ",".join(sorted(o.id for o in self.options))

    @property
    def options_text(self) -> str:
        return " · ".join(o.name for o in self.options)

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
            options=tuple(
                CartOption(str(o["id"]), str(o["name"]), int(o.get("price_delta", 0)))
                for o in d.get("options") or []
            ),
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

    def get(self, key: str) -> CartItem | None:
        """A line by its key (a dish without options: its id)."""
        return self._lines.get(key)

    def quantity_of(self, menu_item_id: str) -> int:
        """Of one dish, over all its lines (the limit is per dish)."""
        return sum(x.quantity for x in self._lines.values() if x.menu_item_id == menu_item_id)

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
            CartLine(
                x.menu_item_id,
                x.quantity,
                x.notes,
                unit_price=x.unit_price,
                options=tuple(o.id for o in x.options),
            )
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
                lines[line.key] = line
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

    async def add(
        self,
        item: MenuItem,
        quantity: int = 1,
        notes: str | None = None,
        options: Sequence[MenuOption] = (),
    ) -> CartItem:
        chosen = tuple(CartOption(o.id, o.name, o.price_delta) for o in options)
        draft = CartItem(item.id, item.name, item.price, 1, item.diet, options=chosen)
        line = self._lines.get(draft.key)
        if line is None and len(self._lines) >= MAX_LINES:
            raise CartFull(f"An order can have at most {MAX_LINES} different items")
        current = line.quantity if line else 0
        new = replace(
            draft,
            unit_price=item.price + sum(o.price_delta for o in chosen),
            quantity=max(1, min(MAX_QUANTITY, current + quantity)),
            notes=(notes.strip() or None) if notes is not None else (line.notes if line else None),
        )
        self._lines[new.key] = new
        await self._save()
        return new

    async def add_line(self, line: CartItem) -> None:
        existing = self._lines.get(line.key)
        if existing is None and len(self._lines) >= MAX_LINES:
            raise CartFull(f"An order can have at most {MAX_LINES} different items")
        quantity = line.quantity + (existing.quantity if existing else 0)
        self._lines[line.key] = replace(line, quantity=min(MAX_QUANTITY, quantity))
        await self._save()

    async def set_quantity(self, key: str, quantity: int) -> None:
        line = self._lines.get(key)
        if line is None:
            return
        if quantity <= 0:
            del self._lines[key]
        else:
            self._lines[key] = replace(line, quantity=min(MAX_QUANTITY, quantity))
        await self._save()

    async def set_notes(self, key: str, notes: str | None) -> None:
        line = self._lines.get(key)
        if line is not None:
            self._lines[key] = replace(line, notes=(notes or "").strip() or None)
            await self._save()

    async def remove(self, keys: Iterable[str]) -> list[CartItem]:
        """Remove lines by key; a dish's id removes every line of that dish."""
        wanted = set(keys)
        removed = [
            self._lines.pop(k)
            for k, x in list(self._lines.items())
            if k in wanted or x.menu_item_id in wanted
        ]
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
            item = by_id.get(line.menu_item_id)
            if item is None:
                continue
            if (item.name, item.diet) != (line.name, line.diet):
                self._lines[key] = replace(line, name=item.name, diet=item.diet)
                changed = True
        if changed:
            await self._save()

    async def apply_price_changes(self, changes: Iterable[tuple[str, int, int]]) -> None:
        """After a PRICE_CHANGED: (dish, price shown, server's price) per refused line; a
        dish's lines with other options are told apart by the price they showed."""
        changed = False
        for menu_item_id, old, new in changes:
            for key, line in list(self._lines.items()):
                if line.menu_item_id == menu_item_id and line.unit_price == old:
                    self._lines[key] = replace(line, unit_price=new)
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
            options=tuple(CartOption(o.id, o.name, o.price_delta) for o in x.options),
        )
        for x in lines
    ]


def price_now(line: CartItem, item: MenuItem) -> int | None:
    """The line's price on today's menu, or None if one of its options is gone."""
    current = {o.id: o for g in item.option_groups for o in g.options}
    if any(o.id not in current for o in line.options):
        return None
    return item.price + sum(current[o.id].price_delta for o in line.options)


def missing_options(line: CartItem, item: MenuItem) -> list[str]:
    """The line's options that the dish no longer has or has switched off, by name."""
    current = {o.id: o for g in item.option_groups for o in g.options}
    return [o.name for o in line.options if o.id not in current or not current[o.id].is_available]
