"""/cart and /checkout."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime

import flet as ft

from canteen_app.state.cart import (
    MAX_QUANTITY,
    ONE_DISH_LIMIT,
    CartItem,
    limit_notes,
    missing_options,
    price_now,
)
from canteen_app.state.checkout import (
    ORDER_TYPES,
    PAYMENT_METHODS,
    order_types,
    payment_methods,
    totals,
    validate,
)
from canteen_app.state.errors import ActionKind, UiAction
from canteen_app.state.menu import busy_notice, local_now
from canteen_app.ui.base import Screen
from canteen_app.ui.widgets import diet_mark, empty_state, icon_action, money, on, qty_stepper
from canteen_client import CanteenError, ConflictFailure, Order

EARLIEST = "earliest"  # the picker's "no window chosen": the server takes the earliest


class CartScreen(Screen):
    title = "Your cart"

    def build(self) -> list[ft.Control]:
        self.lines = ft.Column(spacing=6)
        self.subtotal = ft.Text(size=16, weight=ft.FontWeight.BOLD)
        self.note = ft.Text(
            "Prices are confirmed when you place the order.", size=12, color=ft.Colors.OUTLINE
        )
        self.limits = ft.Text(size=12, color=ft.Colors.ON_SURFACE_VARIANT)
        self.blocked = ft.Text(color=ft.Colors.ERROR, visible=False)
        self.checkout = ft.FilledButton(
            "Go to checkout", icon=ft.Icons.ARROW_FORWARD, on_click=on(self.app.go, "/checkout")
        )
        self.footer = ft.Column(
            [self.subtotal, self.limits, self.note, self.blocked, self.checkout]
        )
        return [self.lines, self.footer]

    async def shown(self) -> None:
        # Fresh settings and menu whenever the cart shows (a 304 when nothing moved).
        if not self.state.menu.loaded:
            await self.app.attempt(self.state.load_menu)
        await self.app.attempt(self.state.refresh_all)
        self.redraw()

    async def set_quantity(self, line: CartItem, quantity: int) -> None:
        if quantity > MAX_QUANTITY:
            self.app.toast(ONE_DISH_LIMIT)
            return
        await self.state.cart.set_quantity(line.key, quantity)

    async def remove(self, line: CartItem) -> None:
        await self.state.cart.remove([line.key])
        self.app.toast(f"Removed {line.name}")

    def refresh(self) -> None:
        super().refresh()
        cart = self.state.cart
        if cart.is_empty:
            self.lines.controls = [
                empty_state(
                    ft.Icons.SHOPPING_CART_OUTLINED,
                    "Your cart is empty.",
                    ft.FilledButton("Browse the menu", on_click=on(self.app.go, "/menu")),
                )
            ]
            self.footer.visible = False
            return
        self.footer.visible = True
        self.lines.controls = [self.line_row(line) for line in cart.lines]
        self.subtotal.value = f"Subtotal: {money(cart.subtotal)}"
        notes = limit_notes(self.state.config)
        self.limits.value = " · ".join(notes)
        self.limits.visible = bool(notes)
        reason = self.state.checkout_blocked()
        self.checkout.disabled = reason is not None
        self.blocked.value = reason or ""
        self.blocked.visible = reason is not None
        self.note.value = "Prices are confirmed when you place the order."

    def line_row(self, line: CartItem) -> ft.Control:
        item = self.state.menu_item(line.menu_item_id)
        warning = None
        if self.state.menu.loaded and (item is None or not item.orderable):
            warning = ft.Text(
                "Not available in this slot"
                if item is None
                else f"{line.name} is sold out"
                if item.sold_out
                else f"{line.name} is not available right now",
                size=12,
                color=ft.Colors.ERROR,
            )
        info: list[ft.Control] = [
            ft.Row([diet_mark(line.diet), ft.Text(line.name, weight=ft.FontWeight.W_600)]),
        ]
        if line.options:
            info.append(ft.Text(line.options_text, size=13, weight=ft.FontWeight.W_500))
        info.append(ft.Text(f"{money(line.unit_price)} each · {money(line.line_total)}", size=13))
        now = price_now(line, item) if item is not None else None
        gone = missing_options(line, item) if item is not None else []
        if gone:
            # The dish is there but not as chosen: remove the line and choose again.
            info.append(
                ft.Text(
                    f"{', '.join(gone)} is no longer available: remove and choose again",
                    size=12,
                    color=ft.Colors.ERROR,
                )
            )
        elif now is not None and now != line.unit_price:
            # The student confirms a new price at checkout (PRICE_CHANGED), never silently.
            info.append(
                ft.Text(
                    f"Price now {money(now)} (was {money(line.unit_price)})",
                    size=12,
                    color=ft.Colors.ORANGE_900,
                )
            )
        if line.quantity >= MAX_QUANTITY:
            info.append(ft.Text(ONE_DISH_LIMIT, size=12, color=ft.Colors.ON_SURFACE_VARIANT))
        if line.notes:
            info.append(ft.Text(f"Note: {line.notes}", size=12, italic=True))
        if warning is not None:
            info.append(warning)
        return ft.Card(
            ft.Container(
                ft.Row(
                    [
                        ft.Column(info, spacing=2, expand=True),
                        qty_stepper(
                            line.name,
                            line.quantity,
                            on(self.set_quantity, line, line.quantity - 1),
                            on(self.set_quantity, line, line.quantity + 1),
                        ),
                        icon_action(
                            ft.Icons.DELETE_OUTLINE,
                            f"Remove {line.name}",
                            on(self.remove, line),
                        ),
                    ]
                ),
                padding=8,
            ),
            semantic_container=False,
        )


class CheckoutScreen(Screen):
    title = "Checkout"

    def build(self) -> list[ft.Control]:
        self.order_type = ft.RadioGroup(content=ft.Column(spacing=0), on_change=self.form_changed)
        self.address = ft.TextField(
            label="Delivery address", hint_text="Hostel, room, building", on_change=self.typed
        )
        self.payment = ft.RadioGroup(content=ft.Column(spacing=0), on_change=self.form_changed)
        self.slot = ft.Dropdown(label="Time slot", on_select=self.slot_changed, width=260)
        self.kitchen = ft.Text(size=14, weight=ft.FontWeight.W_600, color=ft.Colors.TERTIARY)
        self.window = ft.Dropdown(label="Pick-up window", on_select=self.form_changed, width=320)
        self.window_picker = ft.Semantics(
            label="Pick-up window", container=True, content=self.window
        )
        self.instructions = ft.TextField(
            label="Instructions for the kitchen (optional)", max_length=500, on_change=self.typed
        )
        self.summary = ft.Column(spacing=2)
        self.error = ft.Text(color=ft.Colors.ERROR, visible=False)
        self.place_button = ft.FilledButton("Place order", icon=ft.Icons.CHECK, on_click=self.place)
        self.busy = ft.ProgressRing(width=20, height=20, visible=False)
        return [
            ft.Text("How do you want it?", weight=ft.FontWeight.W_600),
            self.order_type,
            self.address,
            ft.Text("Pay with", weight=ft.FontWeight.W_600),
            self.payment,
            self.slot,
            self.kitchen,
            self.window_picker,
            self.instructions,
            ft.Divider(),
            self.summary,
            self.error,
            ft.Row([self.place_button, self.busy]),
        ]

    async def shown(self) -> None:
        await self.app.attempt(self.state.refresh_all)
        await self.load_windows()
        self.redraw()

    def _slot(self) -> str | None:
        state = self.state
        config = state.config
        return (
            state.checkout.form.time_slot
            or state.menu.slot
            or (config.current_time_slot if config else None)
        )

    async def load_windows(self) -> None:
        await self.state.checkout.load_windows(self._slot())

    async def slot_changed(self) -> None:
        self._read_form()
        await self.load_windows()
        self.redraw()

    def _read_form(self) -> None:
        checkout = self.state.checkout
        checkout.form = replace(
            checkout.form,
            order_type=self.order_type.value or checkout.form.order_type,
            payment_method=self.payment.value or checkout.form.payment_method,
            delivery_address=self.address.value or "",
            instructions=self.instructions.value or "",
            time_slot=self.slot.value or checkout.form.time_slot,
            pickup_window=None if self.window.value in (None, EARLIEST) else self.window.value,
        )

    async def typed(self) -> None:
        self._read_form()

    async def form_changed(self) -> None:
        self._read_form()
        self.address.error = None
        self.redraw()

    def refresh(self) -> None:
        super().refresh()
        state = self.state
        config = state.config
        form = state.checkout.form
        self.order_type.content = ft.Column(
            [ft.Radio(value=t, label=ORDER_TYPES[t]) for t in order_types(config)], spacing=0
        )
        self.order_type.value = form.order_type
        self.address.visible = form.order_type == "delivery"
        self.address.value = form.delivery_address
        methods = payment_methods(config)
        self.payment.content = ft.Column(
            [ft.Radio(value=m, label=PAYMENT_METHODS[m]) for m in methods], spacing=0
        )
        self.payment.value = form.payment_method
        if config is not None:
            self.slot.options = [
                ft.DropdownOption(key=s.code, text=s.label) for s in config.time_slots
            ]
        self.slot.value = form.time_slot
        self._windows(form.pickup_window)
        self.instructions.value = form.instructions
        subtotal, fee, total = totals(state.cart, form, config)
        rows = [("Items", subtotal)]
        if form.order_type == "delivery":
            rows.append(("Delivery", fee))
        self.summary.controls = [
            *[
                ft.Row(
                    [ft.Text(label), ft.Text(money(value))],
                    alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                )
                for label, value in rows
            ],
            ft.Row(
                [
                    ft.Text("Total", weight=ft.FontWeight.BOLD),
                    ft.Text(money(total), weight=ft.FontWeight.BOLD),
                ],
                alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
            ),
        ]
        reason = state.checkout_blocked()
        self.place_button.disabled = reason is not None or self.busy.visible
        pay = "Place order and pay with UPI" if form.payment_method == "upi" else "Place order"
        self.place_button.content = f"{pay} · {money(total)}"
        if reason is not None:
            self._show_error(reason)
            self._blocked_shown = reason
        elif self.error.value == getattr(self, "_blocked_shown", None):
            self._show_error(None)

    def _windows(self, picked: str | None) -> None:
        """The kitchen's windows with room, each with when the order would be ready."""
        windows = self.state.checkout.windows
        config = self.state.config
        notice = busy_notice(windows, config)
        self.kitchen.value = notice or ""
        self.kitchen.visible = notice is not None
        self.window_picker.visible = windows is not None and bool(windows.windows)
        if windows is None or not windows.windows:
            return

        def around(when: datetime) -> str:
            return f"{local_now(config, when):%H:%M}"

        first = windows.windows[0]
        self.window.options = [
            ft.DropdownOption(
                key=EARLIEST, text=f"Earliest with room · ready around {around(first.ready_around)}"
            ),
            *[
                ft.DropdownOption(
                    key=w.window, text=f"{w.window} · ready around {around(w.ready_around)}"
                )
                for w in windows.windows
            ],
        ]
        self.window.value = picked or EARLIEST
        chosen = next((o.text for o in self.window.options if o.key == self.window.value), "")
        self.window_picker.label = f"Pick-up window: {chosen}"

    def _show_error(self, text: str | None) -> None:
        self.error.value = text or ""
        self.error.visible = bool(text)

    def _fields(self, action: UiAction) -> None:
        errors = action.field_errors
        self.address.error = errors.get("delivery_address")
        other = [v for k, v in errors.items() if k != "delivery_address"]
        self._show_error("; ".join(other) if other else None)
        self.redraw()

    async def place(self) -> None:
        self._read_form()
        state = self.state
        self.busy.visible = True
        self.place_button.disabled = True
        self.page.update()
        # Right before placing: the settings and menu as they are now (if that fails,
        # placing answers for itself: offline, closed, ...).
        with contextlib.suppress(CanteenError):
            await state.call(state.refresh_all)
        self.busy.visible = False
        self.redraw()
        reason = state.checkout_blocked()
        if reason is not None:
            self.page.update()
            return
        errors = validate(state.checkout.form, state.config, state.cart)
        if errors:
            self._fields(UiAction(ActionKind.FIELD_ERRORS, "", "", field_errors=errors))
            self.page.update()
            return
        self._show_error(None)
        self.busy.visible = True
        self.place_button.disabled = True
        self.page.update()
        try:
            order = await self.app.attempt(
                state.checkout.place,
                retry=self.place,
                on_remove=self.remove_and_continue,
                on_fields=self._fields,
                on_price_changed=self.price_changed,
            )
        finally:
            self.busy.visible = False
            self.redraw()
            self.page.update()
        if order is not None:
            await self.placed(order)
        else:  # refused (SLOT_FULL among others): the windows as they are now
            await self.load_windows()
            self.redraw()
            self.page.update()

    async def remove_and_continue(self, failure: ConflictFailure) -> None:
        removed = await self.state.checkout.remove_unavailable(failure)
        if removed:
            self.app.toast("Removed " + ", ".join(removed))
        if self.state.cart.is_empty:
            await self.app.go("/menu")
            return
        await self.place()

    async def price_changed(self, action: UiAction, failure: ConflictFailure) -> None:
        """409 PRICE_CHANGED: show the changed lines and the new total and ask. Either
        way the cart takes the new prices; confirming places again (a new attempt)."""
        await self.state.checkout.accept_prices(failure)
        self.redraw()
        change = failure.total_change
        _, _, expected = totals(self.state.cart, self.state.checkout.form, self.state.config)
        new_total = change.new_total if change is not None else expected

        async def confirm() -> None:
            self.app.close_dialog()
            await self.place()

        async def back() -> None:
            self.app.close_dialog()
            await self.app.go("/cart")

        self.page.show_dialog(
            ft.AlertDialog(
                title=ft.Text(action.title),
                content=ft.Text(f"{action.message}\n\nPlace order at {money(new_total)}?"),
                actions=[
                    ft.TextButton("Back to cart", on_click=back),
                    ft.FilledButton(f"Place order at {money(new_total)}", on_click=confirm),
                ],
                modal=True,
            )
        )
        self.app.update()

    async def placed(self, order: Order) -> None:
        self.state.orders.loaded = False
        self.state.ready.watch(order)
        await self.app.go(f"/orders/{order.id}")
        if order.payment_method == "upi" and order.payment and order.payment.checkout_url:
            await self.app.open_payment(order)
