"""/menu (by time slot and category, with diet and allergen filters and search) and
/item/{id} (details, image, quantity and notes)."""

from __future__ import annotations

from dataclasses import replace

import flet as ft

from canteen_app.state.cart import MAX_QUANTITY, ONE_DISH_LIMIT, CartFull
from canteen_app.state.menu import ALLERGENS, DIETS, busy_notice, media_url, slot_label
from canteen_app.ui.base import Screen
from canteen_app.ui.widgets import (
    diet_mark,
    dish_photo,
    empty_state,
    icon_action,
    items_text,
    money,
    on,
    qty_stepper,
    section_title,
)
from canteen_client import MenuItem
from canteen_client.models import MenuOption, OptionGroup


class MenuScreen(Screen):
    title = "Canteen menu"

    def appbar(self) -> ft.AppBar:
        self.cart_button = ft.TextButton(
            "Cart", icon=ft.Icons.SHOPPING_CART_OUTLINED, on_click=on(self.app.go, "/cart")
        )
        return ft.AppBar(
            title=ft.Text(self.title),
            automatically_imply_leading=False,
            actions=[
                icon_action(ft.Icons.REFRESH, "Refresh menu", self.reload),
                icon_action(ft.Icons.RECEIPT_LONG, "My orders", on(self.app.go, "/orders")),
                self.cart_button,
                ft.Semantics(
                    label="More options",
                    button=True,
                    container=True,
                    content=ft.PopupMenuButton(
                        items=[ft.PopupMenuItem(content="Sign out", on_click=self.sign_out)],
                        tooltip="",  # the Semantics label names it (a tooltip reads twice)
                    ),
                ),
            ],
        )

    def build(self) -> list[ft.Control]:
        self.slot = ft.Dropdown(label="Ordering for", on_select=self.slot_changed, width=260)
        self.slot_picker = ft.Semantics(label="Time slot", container=True, content=self.slot)
        self.search = ft.TextField(
            label="Search the menu",
            prefix_icon=ft.Icons.SEARCH,
            on_change=self.search_changed,
            dense=True,
        )
        self.categories = ft.Row(scroll=ft.ScrollMode.AUTO, spacing=6)
        self.diets = ft.Row(wrap=True, spacing=6)
        self.allergens = ft.Row(wrap=True, spacing=6, run_spacing=4)
        self.allergen_panel = ft.ExpansionTile(
            title=ft.Text("Allergen filters", size=14),
            controls=[self.allergens],
            dense=True,
        )
        self.status = ft.Text(size=13, color=ft.Colors.ON_SURFACE_VARIANT)
        self.busy = ft.Text(size=14, weight=ft.FontWeight.W_600, color=ft.Colors.TERTIARY)
        self.items = ft.Column(spacing=8)
        self.checkout_bar = ft.FilledButton(
            "View cart",
            icon=ft.Icons.SHOPPING_CART,
            on_click=on(self.app.go, "/cart"),
            expand=True,
        )
        return [
            self.slot_picker,
            self.search,
            self.categories,
            self.diets,
            self.allergen_panel,
            self.status,
            self.busy,
            self.items,
        ]

    def bottom_bar(self) -> ft.BottomAppBar:
        # Pinned below the scrolling menu, so it shows without scrolling to the end.
        self.cart_bar = ft.BottomAppBar(
            content=ft.Row([self.checkout_bar]),
            padding=ft.Padding.symmetric(horizontal=14, vertical=8),
            height=72,
            visible=False,
        )
        return self.cart_bar

    async def shown(self) -> None:
        if not self.state.menu.loaded:
            await self.load()
        else:  # the menu showing again: re-read (a 304 when nothing moved)
            await self.app.attempt(self.state.refresh_all)
            self.redraw()

    async def load(self, slot: str | None = None) -> None:
        self.status.value = "Loading the menu…"
        self.page.update()
        await self.app.attempt(lambda: self.state.load_menu(slot), retry=self.reload)
        self.redraw()

    async def reload(self) -> None:
        await self.app.attempt(self.state.refresh_config)
        await self.load(self.state.menu.slot)

    async def sign_out(self) -> None:
        await self.state.logout()
        await self.app.go("/login")

    async def slot_changed(self) -> None:
        if self.slot.value and self.slot.value != self.state.menu.slot:
            await self.load(self.slot.value)

    async def search_changed(self) -> None:
        menu = self.state.menu
        menu.filters = replace(menu.filters, query=self.search.value or "")
        self.redraw()

    async def set_category(self, category_id: str | None) -> None:
        menu = self.state.menu
        menu.filters = replace(menu.filters, category_id=category_id)
        self.redraw()

    async def toggle_diet(self, diet: str) -> None:
        self.state.menu.filters = self.state.menu.filters.toggle_diet(diet)
        self.redraw()

    async def toggle_allergen(self, allergen: str) -> None:
        self.state.menu.filters = self.state.menu.filters.toggle_allergen(allergen)
        self.redraw()

    async def add(self, item: MenuItem, quantity: int = 1) -> None:
        if self.state.cart.would_exceed(item.id, quantity):
            self.app.toast(ONE_DISH_LIMIT)
            return
        try:
            await self.state.cart.add(item, quantity)
        except CartFull as exc:
            self.app.toast(str(exc))

    async def set_quantity(self, item: MenuItem, quantity: int) -> None:
        if quantity > MAX_QUANTITY:
            self.app.toast(ONE_DISH_LIMIT)
            return
        await self.state.cart.set_quantity(item.id, quantity)

    def refresh(self) -> None:
        super().refresh()
        state, menu = self.state, self.state.menu
        count = state.cart.count
        self.cart_button.content = f"Cart ({count})" if count else "Cart"
        self.checkout_bar.content = (
            f"View cart · {items_text(count)} · {money(state.cart.subtotal)}"
        )
        self.cart_bar.visible = count > 0
        config = state.config
        if config is not None:
            current = config.current_time_slot
            self.slot.options = [
                ft.DropdownOption(key=s.code, text=slot_label(s, current))
                for s in config.time_slots
            ]
        self.slot.value = menu.slot
        chosen = next(
            (s.label for s in (config.time_slots if config else []) if s.code == menu.slot), None
        )
        self.slot_picker.label = f"Time slot: {chosen}" if chosen else "Time slot"
        f = menu.filters
        present = {i.category_id for i in menu.items}
        self.categories.controls = [
            ft.Chip(
                label="All",
                selected=f.category_id is None,
                on_select=on(self.set_category, None),
                show_checkmark=False,
            ),
            *[
                ft.Chip(
                    label=c.name,
                    selected=f.category_id == c.id,
                    on_select=on(self.set_category, None if f.category_id == c.id else c.id),
                    show_checkmark=False,
                )
                for c in menu.categories
                if c.id in present or c.id == f.category_id
            ],
        ]
        self.diets.controls = [
            ft.Chip(
                label=name,
                leading=diet_mark(code),
                selected=code in f.diets,
                on_select=on(self.toggle_diet, code),
            )
            for code, name in DIETS.items()
        ]
        self.allergens.controls = [
            ft.Chip(
                label=f"No {a}",
                selected=a in f.allergen_free,
                on_select=on(self.toggle_allergen, a),
            )
            for a in ALLERGENS
        ]
        if not menu.loaded:
            return
        groups = menu.grouped()
        shown = sum(len(items) for _, items in groups)
        slot_name = next(
            (s.label for s in (config.time_slots if config else []) if s.code == menu.slot),
            menu.slot or "",
        )
        self.status.value = f"{shown} of {len(menu.items)} dishes · {slot_name}"
        notice = busy_notice(menu.windows, config)
        self.busy.value = notice or ""
        self.busy.visible = notice is not None
        if not groups:
            self.items.controls = [
                empty_state(
                    ft.Icons.NO_FOOD,
                    "No dishes match your filters." if f.active else "Nothing on the menu now.",
                )
            ]
            return
        controls: list[ft.Control] = []
        for category, items in groups:
            controls.append(section_title(category.name))
            controls += [self.item_card(i) for i in items]
        self.items.controls = controls

    async def choose(self, item: MenuItem) -> None:
        await self.app.go(f"/item/{item.id}")

    def item_card(self, item: MenuItem) -> ft.Control:
        cart = self.state.cart
        # The tile's stepper is the dish without options; lines with options are the cart's.
        plain = cart.get(item.id)
        qty = plain.quantity if plain else 0
        thumb = media_url(self.state.api.base_url, item.thumbnail_url or item.image_url)
        picture = dish_photo(thumb, item.name, width=64, height=64)
        if not item.orderable:
            action: ft.Control = ft.Text("Sold out", color=ft.Colors.ERROR)
        elif any(g.min_select > 0 for g in item.option_groups):
            # A choice must be made first (the filling, half or full): on the dish's page.
            action = icon_action(ft.Icons.TUNE, f"Choose {item.name}", on(self.choose, item))
        elif qty:
            action = qty_stepper(
                item.name,
                qty,
                on(self.set_quantity, item, qty - 1),
                on(self.set_quantity, item, qty + 1),
            )
        else:
            action = icon_action(ft.Icons.ADD_SHOPPING_CART, f"Add {item.name}", on(self.add, item))
        details: list[ft.Control] = [
            ft.Row([diet_mark(item.diet), ft.Text(item.name, weight=ft.FontWeight.W_600)]),
            ft.Text(money(item.price)),
        ]
        if item.stock_remaining is not None and 0 < item.stock_remaining <= 10:
            details.append(
                ft.Text(f"Only {item.stock_remaining} left", size=12, color=ft.Colors.ORANGE_900)
            )
        return ft.Card(
            ft.Container(
                ft.Row(
                    [
                        picture,
                        ft.Container(
                            ft.Column(details, spacing=2),
                            expand=True,
                            on_click=on(self.app.go, f"/item/{item.id}"),
                        ),
                        action,
                    ]
                ),
                padding=8,
            ),
            opacity=1.0 if item.orderable else 0.6,
            semantic_container=False,
        )


def chosen_options(item: MenuItem, chosen: dict[str, list[str]]) -> list[MenuOption]:
    """The picked options in the dish's order (group, then option)."""
    return [o for g in item.option_groups for o in g.options if o.id in chosen.get(g.id, [])]


def choices_missing(item: MenuItem, chosen: dict[str, list[str]]) -> list[str]:
    """The groups that still need a choice before the dish can be added, by name."""
    return [g.name for g in item.option_groups if len(chosen.get(g.id, [])) < g.min_select]


def option_label(option: MenuOption) -> str:
    extra = f" +{money(option.price_delta)}" if option.price_delta else ""
    off = " (not available)" if not option.is_available else ""
    return f"{option.name}{extra}{off}"


class ItemScreen(Screen):
    title = "Dish"

    async def pick(self, group: OptionGroup, option_id: str, on_: bool) -> None:
        picked = list(self.chosen.get(group.id, []))
        if group.kind == "single":
            picked = [option_id] if on_ else []
        elif on_ and option_id not in picked:
            if len(picked) >= group.max_select:
                self.app.toast(f"At most {group.max_select} from {group.name}")
                self.redraw()
                return
            picked.append(option_id)
        elif not on_ and option_id in picked:
            picked.remove(option_id)
        self.chosen[group.id] = picked
        self.redraw()

    def group_control(self, group: OptionGroup) -> ft.Control:
        picked = self.chosen.get(group.id, [])
        rule = (
            "choose 1"
            if group.kind == "single"
            else f"choose up to {group.max_select}"
            if group.min_select == 0
            else f"choose {group.min_select} to {group.max_select}"
        )
        need = "required" if group.min_select > 0 else "optional"
        title = ft.Text(f"{group.name} ({rule}, {need})", weight=ft.FontWeight.W_600)
        if group.kind == "single":

            async def changed(e: ft.Event[ft.RadioGroup]) -> None:
                await self.pick(group, str(e.control.value), True)

            choices: ft.Control = ft.RadioGroup(
                value=picked[0] if picked else None,
                on_change=changed,
                content=ft.Column(
                    [
                        ft.Radio(value=o.id, label=option_label(o), disabled=not o.is_available)
                        for o in group.options
                    ],
                    spacing=0,
                ),
            )
        else:
            choices = ft.Column(
                [
                    ft.Checkbox(
                        label=option_label(o),
                        value=o.id in picked,
                        disabled=not o.is_available,
                        on_change=on(self.toggle, group, o.id),
                    )
                    for o in group.options
                ],
                spacing=0,
            )
        return ft.Column([title, choices], spacing=2)

    async def toggle(self, group: OptionGroup, option_id: str) -> None:
        await self.pick(group, option_id, option_id not in self.chosen.get(group.id, []))

    def build(self) -> list[ft.Control]:
        self.item: MenuItem | None = None
        self.quantity = 1
        self.chosen: dict[str, list[str]] = {}  # group id -> option ids, in picking order
        self.body = ft.Column(spacing=10)
        self.notes = ft.TextField(label="Notes for the kitchen (optional)", max_length=200)
        self.add_button = ft.FilledButton("Add to cart", on_click=self.add)
        return [self.body]

    async def shown(self) -> None:
        item_id = self.route.id
        item = self.state.menu_item(item_id)
        if item is None:
            item = await self.app.attempt(lambda: self.state.menu.item(item_id))
        self.item = item
        self.chosen = {}
        existing = self.state.cart.get(item_id)
        if existing is not None and existing.notes:
            self.notes.value = existing.notes
        self.redraw()

    async def step(self, delta: int) -> None:
        if self.item is not None and self.state.cart.would_exceed(
            self.item.id, self.quantity + delta
        ):
            self.app.toast(ONE_DISH_LIMIT)
            return
        self.quantity = max(1, min(MAX_QUANTITY, self.quantity + delta))
        self.redraw()

    async def add(self) -> None:
        item = self.item
        if item is None:
            return
        if self.state.cart.would_exceed(item.id, self.quantity):
            self.app.toast(f"{ONE_DISH_LIMIT}: you have {self.state.cart.quantity_of(item.id)}")
            return
        if choices_missing(item, self.chosen):
            return
        try:
            await self.state.cart.add(
                item, self.quantity, self.notes.value or "", chosen_options(item, self.chosen)
            )
        except CartFull as exc:
            self.app.toast(str(exc))
            return
        self.app.toast(f"Added {self.quantity} x {item.name} to your cart")
        await self.app.go("/menu")

    def refresh(self) -> None:
        super().refresh()
        item = self.item
        if item is None:
            self.body.controls = [ft.ProgressRing()]
            return
        self.view.appbar = ft.AppBar(title=ft.Text(item.name))
        image = media_url(self.state.api.base_url, item.image_url or item.thumbnail_url)
        controls: list[ft.Control] = [
            dish_photo(
                image,
                item.name,
                width=max(200, min(560, (self.page.width or 420) - 32)),
                height=220,
                radius=12,
                icon_size=56,
            )
        ]
        controls += [
            ft.Row(
                [
                    diet_mark(item.diet, 18),
                    ft.Text(item.name, size=22, weight=ft.FontWeight.BOLD, expand=True),
                    ft.Text(money(item.price), size=20),
                ]
            ),
            ft.Text(item.description or ""),
            ft.Text(
                "Contains: " + ", ".join(item.allergens)
                if item.allergens
                else "No listed allergens",
                size=13,
            ),
            ft.Text(f"Ready in about {item.prep_minutes} min", size=13),
        ]
        config = self.state.config
        if config is not None and item.time_slots:
            labels = {s.code: s.label for s in config.time_slots}
            served = ", ".join(labels.get(code, code) for code in item.time_slots)
            controls.append(ft.Text(f"Served: {served}", size=13))
        if item.stock_remaining is not None and item.orderable:
            controls.append(ft.Text(f"{item.stock_remaining} left today", size=13))
        if item.orderable:
            unit = item.price + sum(o.price_delta for o in chosen_options(item, self.chosen))
            missing = choices_missing(item, self.chosen)
            self.add_button.content = f"Add {self.quantity} to cart · {money(unit * self.quantity)}"
            self.add_button.disabled = bool(missing)
            controls += [self.group_control(g) for g in item.option_groups]
            if missing:
                controls.append(
                    ft.Text("Choose " + " and ".join(missing) + " to add", color=ft.Colors.ERROR)
                )
            controls += [
                qty_stepper(
                    item.name,
                    self.quantity,
                    on(self.step, -1),
                    on(self.step, 1),
                ),
                self.notes,
                self.add_button,
            ]
        else:
            controls.append(ft.Text("Sold out right now", color=ft.Colors.ERROR, size=16))
        self.body.controls = controls
