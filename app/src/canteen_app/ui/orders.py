"""/orders (history with reorder) and /orders/{id} (tracking, UPI, feedback)."""

from __future__ import annotations

import flet as ft

from canteen_app.state.checkout import awaiting_payment
from canteen_app.state.menu import local_now
from canteen_app.state.orders import needs_feedback
from canteen_app.state.pickup_qr import pickup_qr_png
from canteen_app.state.tracking import (
    TrackingState,
    can_cancel,
    cancellation_lines,
    cash_instructions,
    code_texts,
    current_step_label,
    eta_text,
    payment_text,
    stepper,
)
from canteen_app.ui.base import Screen
from canteen_app.ui.widgets import empty_state, money, on
from canteen_client import CanteenError, Order, OrderAction, OrderLine

STATUS_COLOURS = {
    "received": ft.Colors.BLUE_GREY_700,
    "confirmed": ft.Colors.BLUE_700,
    "preparing": ft.Colors.ORANGE_800,
    "ready": ft.Colors.GREEN_700,
    "out_for_delivery": ft.Colors.TEAL_700,
    "completed": ft.Colors.GREEN_900,
    "cancelled": ft.Colors.RED_700,
    "not_collected": ft.Colors.RED_700,
}


def line_name(line: OrderLine) -> str:
    """ "Dosa (Masala, Butter)": the dish with the options it was ordered with."""
    names = ", ".join(o.name for o in line.options)
    return f"{line.name} ({names})" if names else line.name


async def reorder(screen: Screen, order: Order) -> None:
    """Put the order's dishes back in the cart (those on the menu now) and open the cart."""
    state = screen.state
    if not state.menu.loaded:
        await screen.app.attempt(state.load_menu)
    result = await state.orders.reorder(order, state.menu.items, state.cart)
    if result.choose_again:
        # An option of the dish is gone: say so and let the student choose again.
        item_id, said = result.choose_again[0]
        screen.app.toast(said)
        await screen.app.go(f"/item/{item_id}")
        return
    if result.skipped:
        screen.app.toast("Not available now: " + ", ".join(result.skipped))
    elif result.added:
        count = len(result.added)
        screen.app.toast(f"Added {count} {'dish' if count == 1 else 'dishes'} to your cart")
    await screen.app.go("/cart")


class OrdersScreen(Screen):
    title = "My orders"

    def build(self) -> list[ft.Control]:
        self.list = ft.Column(spacing=8)
        self.more = ft.TextButton("Load more", on_click=self.load_more, visible=False)
        return [self.list, self.more]

    async def shown(self) -> None:
        await self.app.attempt(self.state.orders.load, retry=self.shown)
        self.state.ready.watch_all(self.state.orders.orders)
        self.redraw()

    async def load_more(self) -> None:
        await self.app.attempt(self.state.orders.load_more)
        self.redraw()

    def refresh(self) -> None:
        super().refresh()
        orders = self.state.orders
        if orders.loaded and not orders.orders:
            self.list.controls = [
                empty_state(
                    ft.Icons.RECEIPT_LONG,
                    "No orders yet.",
                    ft.FilledButton("Browse the menu", on_click=on(self.app.go, "/menu")),
                )
            ]
        else:
            self.list.controls = [self.order_card(o) for o in orders.orders]
        self.more.visible = orders.has_more

    def order_card(self, order: Order) -> ft.Control:
        when = local_now(self.state.config, order.created_at)
        items = ", ".join(f"{x.quantity} x {line_name(x)}" for x in order.items)
        return ft.Card(
            ft.Container(
                ft.Column(
                    [
                        ft.Row(
                            [
                                ft.Text(order.number, weight=ft.FontWeight.W_600, expand=True),
                                ft.Text(
                                    "Cancelled"
                                    if order.status == "cancelled"
                                    else current_step_label(order.order_type, order.status),
                                    color=STATUS_COLOURS.get(order.status),
                                ),
                            ]
                        ),
                        ft.Text(items, size=13, max_lines=2),
                        ft.Row(
                            [
                                ft.Text(
                                    f"{when:%d %b, %H:%M} · {money(order.total)}",
                                    size=13,
                                    expand=True,
                                ),
                                ft.Semantics(
                                    label=f"Track {order.number}",
                                    button=True,
                                    container=True,
                                    content=ft.TextButton(
                                        "Track", on_click=on(self.app.go, f"/orders/{order.id}")
                                    ),
                                ),
                                ft.Semantics(
                                    label=f"Reorder {order.number}",
                                    button=True,
                                    container=True,
                                    content=ft.TextButton(
                                        "Reorder",
                                        icon=ft.Icons.REPLAY,
                                        on_click=on(reorder, self, order),
                                    ),
                                ),
                            ]
                        ),
                    ],
                    spacing=4,
                ),
                padding=10,
                on_click=on(self.app.go, f"/orders/{order.id}"),
            ),
            semantic_container=False,
        )


class TrackingScreen(Screen):
    title = "Your order"

    def build(self) -> list[ft.Control]:
        self.tracking: TrackingState = self.state.tracking(self.route.id, self._changed)
        self.feedback_asked = False
        self.headline = ft.Text(size=22, weight=ft.FontWeight.BOLD)
        self.eta = ft.Text(size=15)
        self.window = ft.Text(size=13, color=ft.Colors.ON_SURFACE_VARIANT)
        self.eta_banner = ft.Container(
            content=ft.Text(weight=ft.FontWeight.W_600),
            bgcolor=ft.Colors.TERTIARY_CONTAINER,
            padding=10,
            border_radius=8,
            visible=False,
        )
        # The kitchen put back a move it made by mistake (a handover, a cancel).
        self.recall_banner = ft.Container(
            content=ft.Text(weight=ft.FontWeight.W_600),
            bgcolor=ft.Colors.AMBER_100,
            padding=10,
            border_radius=8,
            visible=False,
        )
        self.feedback: FeedbackDialog | None = None
        self.code = ft.Column(spacing=0, horizontal_alignment=ft.CrossAxisAlignment.CENTER)
        self.steps = ft.Column(spacing=0)
        self.payment = ft.Column(spacing=6)
        self.details = ft.Column(spacing=2)
        self.actions = ft.Row(wrap=True, spacing=8)
        self.live = ft.Text(size=11, color=ft.Colors.OUTLINE)
        return [
            self.headline,
            self.recall_banner,
            self.eta_banner,
            self.eta,
            self.window,
            ft.Container(self.code, alignment=ft.Alignment.CENTER, padding=6),
            self.payment,
            self.steps,
            ft.Divider(),
            self.details,
            self.actions,
            self.live,
        ]

    def _changed(self) -> None:
        self.redraw()
        order = self.tracking.order
        if order is not None and needs_feedback(order) and not self.feedback_asked:
            self.feedback_asked = True
            self.ask_feedback()
        elif self.tracking.recall_text and self.feedback is not None:
            # Handed over by mistake: no rating yet (asked again once it really is).
            if self.feedback.dialog.open:
                self.app.close_dialog()
            self.feedback, self.feedback_asked = None, False

    async def shown(self) -> None:
        order = await self.app.attempt(self.tracking.load, retry=self.shown)
        if order is not None:
            # Live updates; a finished order's socket stays open while a handover or a
            # kitchen cancel may still be recalled, and a cancelled order's refund is
            # followed until settled.
            self.tracking.start()
            self.state.ready.watch(order)

    async def hidden(self) -> None:
        await self.tracking.stop()

    def tick(self) -> bool:
        order = self.tracking.order
        if order is None:
            return False
        text = self._eta(order)
        if text != self.eta.value:
            self.eta.value = text
            return True
        return False

    def _eta(self, order: Order) -> str:
        now = local_now(self.state.config, self.state.now())
        return eta_text(order.estimated_ready_at, now, self.tracking.status or order.status) or ""

    def refresh(self) -> None:
        super().refresh()
        t = self.tracking
        order = t.order
        if order is None:
            self.headline.value = "Loading your order…"
            return
        status = t.status or order.status
        self.view.appbar = ft.AppBar(title=ft.Text(f"Order {order.number}"))
        self.headline.value = (
            "Cancelled" if status == "cancelled" else current_step_label(order.order_type, status)
        )
        self.headline.color = STATUS_COLOURS.get(status)
        recalled = t.recall_text
        self.recall_banner.visible = recalled is not None
        if isinstance(self.recall_banner.content, ft.Text):
            self.recall_banner.content.value = recalled or ""
        self.eta.value = self._eta(order)
        self._kitchen_window(order, status)
        heading, hint = code_texts(order)
        self.code.controls = (
            [
                ft.Text(heading, size=13),
                ft.Semantics(
                    label=f"{heading} {order.pickup_code}",
                    container=True,
                    content=ft.Text(order.pickup_code, size=40, weight=ft.FontWeight.BOLD),
                ),
                ft.Text(hint, size=12, color=ft.Colors.OUTLINE),
                # The same code for the counter's camera (the portal scans it).
                ft.Image(
                    src=pickup_qr_png(order.pickup_code),
                    width=132,
                    height=132,
                    semantics_label=f"QR code of the {heading.lower()} {order.pickup_code}",
                ),
            ]
            if status not in ("cancelled", "completed", "not_collected") and order.pickup_code
            else []
        )
        self.steps.controls = [
            self._step(s.label, s.state) for s in stepper(order.order_type, status, t.history)
        ]
        self.payment.controls = self._payment(order, status)
        paying = payment_text(order, t.payment_status)
        self.details.controls = [
            *[
                ft.Row(
                    [
                        ft.Text(f"{x.quantity} x {line_name(x)}", expand=True),
                        ft.Text(money(x.line_total)),
                    ]
                )
                for x in order.items
            ],
            *(
                [ft.Row([ft.Text("Delivery", expand=True), ft.Text(money(order.delivery_fee))])]
                if order.delivery_fee
                else []
            ),
            ft.Row(
                [
                    ft.Text("Total", weight=ft.FontWeight.BOLD, expand=True),
                    ft.Text(money(order.total), weight=ft.FontWeight.BOLD),
                ]
            ),
            *([ft.Text(paying, size=13)] if paying else []),
            *(
                [ft.Text(f"Deliver to: {order.delivery_address}", size=13)]
                if order.delivery_address
                else []
            ),
        ]
        actions: list[ft.Control] = []
        # The server's actions describe the order on screen; a newer status from the
        # socket is shown once the order is read again.
        if can_cancel(order) and status == order.status:
            actions.append(ft.OutlinedButton("Cancel order", on_click=self.confirm_cancel))
        if status in ("completed", "cancelled", "not_collected"):
            actions.append(
                ft.FilledButton("Reorder", icon=ft.Icons.REPLAY, on_click=on(reorder, self, order))
            )
        if needs_feedback(order):
            actions.append(ft.OutlinedButton("Rate this order", on_click=self.ask_feedback_now))
        elif order.feedback is not None:
            actions.append(ft.Text(f"You rated this order {order.feedback.rating}/5"))
        self.actions.controls = actions
        if t.error is not None and not t.finished:
            self.live.value = "Live updates stopped. Pull to refresh."
        elif t.finished:
            self.live.value = ""
        else:
            self.live.value = (
                "Live updates"
                if t.mode == "websocket"
                else "Checking for updates every few seconds"
            )

    def _kitchen_window(self, order: Order, status: str) -> None:
        """The window the order reserved, and a banner when the kitchen moved its time
        by more than 5 minutes (order.eta_changed)."""
        config = self.state.config
        start, end = order.pickup_window_start, order.pickup_window_end
        open_ = status not in ("completed", "cancelled", "not_collected")
        if start is not None and end is not None and open_:
            self.window.value = (
                f"Pick-up window {local_now(config, start):%H:%M} to {local_now(config, end):%H:%M}"
            )
        else:
            self.window.value = ""
        moved = self.tracking.eta_moved_to
        show = moved is not None and open_ and status not in ("ready", "out_for_delivery")
        self.eta_banner.visible = show
        if moved is not None and isinstance(self.eta_banner.content, ft.Text):
            self.eta_banner.content.value = (
                f"The kitchen changed your ready time: now around {local_now(config, moved):%H:%M}"
            )

    @staticmethod
    def _step(label: str, state: str) -> ft.Control:
        icon, colour = {
            "done": (ft.Icons.CHECK_CIRCLE, ft.Colors.GREEN_700),
            "current": (ft.Icons.RADIO_BUTTON_CHECKED, ft.Colors.DEEP_ORANGE),
            "todo": (ft.Icons.RADIO_BUTTON_UNCHECKED, ft.Colors.OUTLINE),
            "cancelled": (ft.Icons.CANCEL, ft.Colors.RED_700),
        }[state]
        weight = ft.FontWeight.BOLD if state in ("current", "cancelled") else ft.FontWeight.NORMAL
        word = {"done": "done", "current": "now", "todo": "to come", "cancelled": "now"}[state]
        return ft.Semantics(
            label=f"{label}: {word}",
            content=ft.Row(
                [ft.Icon(icon, color=colour), ft.Text(label, weight=weight)],
                height=34,
            ),
        )

    def _payment(self, order: Order, status: str) -> list[ft.Control]:
        """The box above the stepper: the cancellation, or a UPI payment still due."""
        if status == "cancelled":
            lines = cancellation_lines(order, self.tracking.cancel_actor)
            return [
                ft.Container(
                    ft.Column(
                        [
                            ft.Text(lines[0], weight=ft.FontWeight.W_600, color=ft.Colors.RED_900),
                            *[ft.Text(line, size=13) for line in lines[1:]],
                        ],
                        spacing=4,
                    ),
                    bgcolor=ft.Colors.RED_50,
                    padding=10,
                    border_radius=8,
                )
            ]
        failed = self.tracking.payment_failed
        if not awaiting_payment(order) or status != order.status:
            return []
        why = self.tracking.payment_error
        controls: list[ft.Control] = [
            ft.Text(
                "Your UPI payment did not go through" if failed else "Waiting for your payment",
                weight=ft.FontWeight.W_600,
                color=ft.Colors.ERROR if failed else None,
            ),
        ]
        if failed and why:
            controls.append(ft.Text(why, size=13))
        controls.append(
            ft.Text(
                "You can try UPI again or pay in cash. Unpaid orders are cancelled after 5 minutes."
                if failed
                else "Unpaid orders are cancelled after 5 minutes.",
                size=12,
                color=ft.Colors.OUTLINE,
            )
        )
        buttons: list[ft.Control] = []
        if failed or not order.can(OrderAction.pay):
            # Declined, or no checkout yet (the gateway was down): start it again.
            buttons.append(ft.FilledButton("Try UPI again", on_click=self.retry_payment))
        else:
            buttons.append(ft.FilledButton(f"Pay {money(order.total)} with UPI", on_click=self.pay))
            buttons.append(ft.OutlinedButton("I have paid", on_click=self.check_payment))
        if order.can(OrderAction.switch_to_cash):
            buttons.append(ft.OutlinedButton("Pay cash instead", on_click=self.switch_to_cash))
        controls.append(ft.Row(buttons, wrap=True))
        return [
            ft.Container(
                ft.Column(controls, spacing=6),
                bgcolor=ft.Colors.RED_50 if failed else ft.Colors.AMBER_50,
                padding=10,
                border_radius=8,
            )
        ]

    # ---- actions ---------------------------------------------------------------------------

    async def pay(self) -> None:
        order = self.tracking.order
        if order is None:
            return
        if self.state.payments.checkout_url(order) is None:
            # The order on screen lacks its payment page: the server's current one has it.
            fresh = await self.app.attempt(self.tracking.load)
            order = fresh or order
        await self.app.open_payment(order)

    async def check_payment(self) -> None:
        order = await self.app.attempt(lambda: self.state.payments.check(self.route.id))
        if order is None:
            return
        self.tracking.apply_order(order)
        if order.payment_status in ("pending",):
            self.app.toast("We have not received the payment yet")
        self.redraw()

    async def retry_payment(self) -> None:
        order = await self.app.attempt(self.tracking.retry_payment)
        if order is not None:
            self.redraw()
            await self.app.open_payment(order)

    async def switch_to_cash(self) -> None:
        order = await self.app.attempt(self.tracking.switch_to_cash)
        if order is not None:
            self.app.toast(cash_instructions(order))
            self.redraw()

    async def confirm_cancel(self) -> None:
        async def cancel() -> None:
            self.app.close_dialog()
            order = await self.app.attempt(lambda: self.tracking.cancel())
            if order is not None:
                self.app.toast("Order cancelled")

        self.page.show_dialog(
            ft.AlertDialog(
                title=ft.Text("Cancel this order?"),
                content=ft.Text("The kitchen has not started on it yet."),
                actions=[
                    ft.TextButton("Keep it", on_click=self.app.close_dialog),
                    ft.FilledButton("Cancel order", on_click=cancel),
                ],
                modal=True,
            )
        )

    async def ask_feedback_now(self) -> None:
        self.ask_feedback()

    def ask_feedback(self) -> None:
        self.feedback = FeedbackDialog(self)
        self.feedback.open()


class FeedbackDialog:
    """1-5 stars and a comment.

    Nothing typed may be lost: a star tap changes only the five star icons in place
    (the same controls, never new ones, and nothing in the comment field), so
    Flutter never rebuilds or re-sets the text field while the student is typing; the
    comment is read from the field's own change events as they arrive."""

    def __init__(self, screen: TrackingScreen) -> None:
        self.screen = screen
        self.rating = 0
        self.text = ""
        self.typing = False  # the student has been in the comment field
        self.names = [f"{i} star" + ("s" if i > 1 else "") for i in range(1, 6)]
        self.stars = [
            ft.Icon(ft.Icons.STAR_BORDER, color=ft.Colors.AMBER_700, size=28) for _ in range(5)
        ]
        # Plain tappable containers, not IconButtons: nothing that takes keyboard focus.
        self.buttons = [
            ft.Container(star, on_click=on(self.choose, i), padding=6)
            for i, star in enumerate(self.stars, start=1)
        ]
        self.comment = ft.TextField(
            label="Anything to tell the canteen? (optional)",
            max_length=500,
            multiline=True,
            on_change=self.typed,
            # Any handler here replaces Flutter's default, which on the web drops the
            # keyboard focus when something else (a star) is tapped: typing goes on.
            on_tap_outside=self.kept_focus,
            on_focus=self.focused,
        )
        self.send = ft.FilledButton("Send", disabled=True, on_click=self.submit)
        self.dialog = ft.AlertDialog(
            title=ft.Text("How was your order?"),
            content=ft.Column(
                [
                    ft.Row(
                        [
                            # The name a screen reader reads (and the tests find).
                            ft.Semantics(label=name, button=True, container=True, content=b)
                            for name, b in zip(self.names, self.buttons, strict=True)
                        ],
                        spacing=0,
                    ),
                    self.comment,
                ],
                tight=True,
            ),
            actions=[ft.TextButton("Later", on_click=self.screen.app.close_dialog), self.send],
            modal=True,
        )

    def open(self) -> None:
        self.screen.page.show_dialog(self.dialog)

    async def typed(self, e: ft.Event[ft.TextField]) -> None:
        self.text = e.data if isinstance(e.data, str) else (self.comment.value or "")

    async def kept_focus(self) -> None:
        """A tap outside the comment (a star): the field keeps the keyboard."""

    async def focused(self) -> None:
        self.typing = True

    async def choose(self, value: int) -> None:
        self.rating = value
        for i, star in enumerate(self.stars, start=1):
            star.icon = ft.Icons.STAR if i <= value else ft.Icons.STAR_BORDER
            star.update()
        self.send.disabled = False
        self.send.update()
        if self.typing:
            # The tap took the keyboard (a browser focuses what is clicked): give it back,
            # so what the student goes on typing lands in the comment.
            await self.comment.focus()  # type: ignore[no-untyped-call]

    async def submit(self) -> None:
        screen = self.screen
        comment = self.comment.value or self.text
        try:
            order = await screen.state.orders.feedback(screen.route.id, self.rating, comment)
        except CanteenError as exc:
            screen.app.close_dialog()
            screen.app.toast(f"Could not send your rating: {exc.message}")
            return
        screen.app.close_dialog()
        screen.tracking.apply_order(order)
        screen.app.toast("Thanks for your feedback!")
        screen.redraw()


class ClosedScreen(Screen):
    title = "Closed"

    def build(self) -> list[ft.Control]:
        return [
            ft.Container(
                ft.Column(
                    [
                        ft.Icon(ft.Icons.STOREFRONT, size=72, color=ft.Colors.RED_700),
                        ft.Text("The canteen is closed", size=24, weight=ft.FontWeight.BOLD),
                        ft.Text(
                            "It is not taking orders right now. Your cart is kept; "
                            "come back when it opens.",
                            text_align=ft.TextAlign.CENTER,
                        ),
                        ft.FilledButton("Check again", on_click=self.check),
                        ft.TextButton("Back to the menu", on_click=on(self.app.go, "/menu")),
                    ],
                    horizontal_alignment=ft.CrossAxisAlignment.CENTER,
                ),
                padding=32,
                alignment=ft.Alignment.CENTER,
            )
        ]

    async def check(self) -> None:
        config = await self.app.attempt(self.state.refresh_config)
        if config is not None and config.accepting_orders:
            await self.app.go("/checkout" if not self.state.cart.is_empty else "/menu")
        elif config is not None:
            self.app.toast("Still closed")
