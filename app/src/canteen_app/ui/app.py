"""The Flet front end: routing, the screen stack, dialogs and background refreshes.

All behaviour lives in `canteen_app.state`; this module only draws it and forwards taps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import flet as ft
from flet_audio import Audio

from canteen_app.state.alerts import ReadyAlert
from canteen_app.state.app_state import AppState
from canteen_app.state.errors import ActionKind, UiAction, action_for
from canteen_app.state.push import route_for_notification
from canteen_app.ui.base import Screen
from canteen_app.ui.router import Route, guard, parse_route, stack_for
from canteen_app.ui.widgets import Handler
from canteen_client import CanteenError, ConflictFailure, Order

log = logging.getLogger("canteen_app.ui")
T = TypeVar("T")
READY_SOUND = "sounds/ready.wav"  # in canteen_app/assets


def screen_for(app: CanteenApp, route: Route) -> Screen:
    from canteen_app.ui.screens import SCREENS

    return SCREENS[route.name](app, route)


class CanteenApp:
    def __init__(self, page: ft.Page, state: AppState) -> None:
        self.page = page
        self.state = state
        self.screens: dict[str, Screen] = {}
        self.stack: list[Screen] = []
        self.pending_route: str | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._sign_in_dialog_open = False
        self._resumed_at = 0.0

    # ---- start and stop ----------------------------------------------------------------

    async def start(self) -> None:
        page = self.page
        page.title = "Canteen"
        page.theme_mode = ft.ThemeMode.LIGHT
        page.theme = ft.Theme(color_scheme_seed=ft.Colors.DEEP_ORANGE)
        page.on_route_change = self._route_changed
        page.on_view_pop = self._view_popped
        page.on_close = self._closed  # the session ended (a reconnect keeps it)
        # Back from the background (another tab, the phone's home screen): re-read.
        page.on_app_lifecycle_state_change = self._lifecycle
        self.launcher = ft.UrlLauncher()
        # Played in the browser (or on the phone) when an order is ready: browsers let a
        # page play sound once the student has interacted with it, which placing an order is.
        self.chime = Audio(src=READY_SOUND, volume=1.0)
        self.ready_banner: ft.Banner | None = None
        self.state.ready.on_ready(self._order_ready)
        self.state.on_change(self.refresh)
        self.state.on_signed_out(self._signed_out)
        self.state.push.registrar.on_notification_tap(self.open_notification)
        await self.state.start()
        self.state.start_background()
        self._ticker = asyncio.create_task(self._tick())
        await self.show(page.route)

    async def _lifecycle(self, e: ft.AppLifecycleStateChangeEvent) -> None:
        if e.state not in (ft.AppLifecycleState.RESUME, ft.AppLifecycleState.SHOW):
            return
        now = asyncio.get_running_loop().time()
        if now - self._resumed_at < 2:  # SHOW and RESUME arrive together
            return
        self._resumed_at = now
        if self.state.auth.signed_in:
            self.state.live.start()  # if it stopped meanwhile
        with contextlib.suppress(CanteenError):
            await self.state.call(self.state.refresh_all)

    async def _closed(self) -> None:
        await self.close()

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        for screen in self.stack:
            with contextlib.suppress(Exception):
                await screen.hidden()
        await self.state.close()

    # ---- routing -----------------------------------------------------------------------

    async def go(self, route: str) -> None:
        if route == self.page.route:
            await self.show(route)
        else:
            await self.page.push_route(route)

    async def _route_changed(self, e: ft.RouteChangeEvent) -> None:
        await self.show(e.route)

    async def _view_popped(self, e: ft.ViewPopEvent) -> None:
        if len(self.stack) > 1:
            await self.go(self.stack[-2].route.path)

    async def show(self, raw_route: str) -> None:
        route = parse_route(raw_route)
        redirect = guard(route, self.state.auth.signed_in)
        if redirect is not None:
            if redirect == "/login" and route.name != "menu":
                self.pending_route = raw_route
            await self.go(redirect)
            return
        if route.name == "payment_return":
            await self._payment_return(route)
            return
        wanted = stack_for(route)
        keep = {r.path for r in wanted}
        for path, old in list(self.screens.items()):
            if path not in keep or (path == route.path and old.route != route):
                del self.screens[path]
                await old.hidden()
        stack: list[Screen] = []
        for r in wanted:
            screen = self.screens.get(r.path)
            if screen is None:
                screen = screen_for(self, r)
                self.screens[r.path] = screen
            stack.append(screen)
        self.stack = stack
        self.page.views.clear()
        self.page.views.extend(s.view for s in stack)
        for s in stack:
            s.refresh()
        self.page.update()
        await stack[-1].shown()
        self.update()

    @property
    def top(self) -> Screen | None:
        return self.stack[-1] if self.stack else None

    async def after_sign_in(self) -> None:
        await self.state.signed_in()
        route, self.pending_route = self.pending_route or "/menu", None
        await self.go(route)

    async def open_notification(self, data: Mapping[str, Any]) -> None:
        route = route_for_notification(data)
        if route:
            await self.go(route)

    # ---- drawing -----------------------------------------------------------------------

    def refresh(self) -> None:
        for screen in self.stack:
            screen.refresh()
        self.update()

    def update(self) -> None:
        with contextlib.suppress(Exception):  # the session may be gone
            self.page.update()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1)
            top = self.top
            if top is not None and top.tick():
                self.update()

    def _order_ready(self, alert: ReadyAlert) -> None:
        self.page.run_task(self.announce_ready, alert)

    async def announce_ready(self, alert: ReadyAlert) -> None:
        """A banner over whatever screen is open, and the chime."""
        await self.dismiss_ready_banner()

        async def track() -> None:
            await self.dismiss_ready_banner()
            await self.go(f"/orders/{alert.order_id}")

        banner = ft.Banner(
            leading=ft.Icon(ft.Icons.NOTIFICATIONS_ACTIVE, color=ft.Colors.GREEN_800),
            content=ft.Text(alert.text, weight=ft.FontWeight.W_600),
            bgcolor=ft.Colors.GREEN_50,
            actions=[
                ft.TextButton("Track order", on_click=track),
                ft.TextButton("OK", on_click=self.dismiss_ready_banner),
            ],
        )
        self.ready_banner = banner
        self.page.show_dialog(banner)
        try:
            await self.chime.play()
        except Exception:  # no sound (blocked by the browser, no audio device): the banner stays
            log.info("could not play the ready sound", exc_info=True)

    async def dismiss_ready_banner(self) -> None:
        banner, self.ready_banner = self.ready_banner, None
        if banner is not None and banner.open:
            banner.open = False
            with contextlib.suppress(Exception):
                banner.update()

    def toast(self, text: str) -> None:
        self.page.show_dialog(ft.SnackBar(ft.Text(text), duration=ft.Duration(seconds=4)))

    def close_dialog(self) -> None:
        self.page.pop_dialog()

    # ---- errors (design §11.2) -----------------------------------------------------------

    async def attempt(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        retry: Handler | None = None,
        on_remove: Callable[[ConflictFailure], Awaitable[None]] | None = None,
        on_fields: Callable[[UiAction], None] | None = None,
        on_price_changed: Callable[[UiAction, ConflictFailure], Awaitable[None]] | None = None,
    ) -> T | None:
        """Run `fn` through the state's call wrapper; show the failure's UI action."""
        try:
            return await self.state.call(fn)
        except CanteenError as exc:
            action = action_for(exc, self.state.menu.names())
            log.info("%s: %s", action.kind, exc)
            if (
                action.kind is ActionKind.PRICE_CHANGED
                and on_price_changed is not None
                and isinstance(exc, ConflictFailure)
            ):
                await on_price_changed(action, exc)
                return None
            self.show_action(action, exc, retry=retry, on_remove=on_remove, on_fields=on_fields)
            return None

    def show_action(
        self,
        action: UiAction,
        error: CanteenError | None = None,
        *,
        retry: Handler | None = None,
        on_remove: Callable[[ConflictFailure], Awaitable[None]] | None = None,
        on_fields: Callable[[UiAction], None] | None = None,
    ) -> None:
        kind = action.kind
        if kind is ActionKind.FIELD_ERRORS and on_fields is not None and action.field_errors:
            on_fields(action)
        elif kind is ActionKind.SIGN_IN_AGAIN:
            self.ask_to_sign_in(action.message)
        elif kind in (ActionKind.ACCESS_DENIED, ActionKind.NOT_FOUND, ActionKind.RATE_LIMITED):
            self.toast(action.message)
        elif kind is ActionKind.OFFLINE:
            self.refresh()  # the offline banner carries the retry
            self.toast(action.message)
        elif kind is ActionKind.CLOSED:
            self.state.spawn(self._refresh_config())
            self.page.run_task(self.go, "/closed")
        elif kind is ActionKind.REMOVE_UNAVAILABLE and isinstance(error, ConflictFailure):
            self._remove_dialog(action, error, on_remove)
        elif kind is ActionKind.WAIT_AND_RETRY:
            self.state.spawn(self._refresh_config())
            self._dialog(action, retry, retry_label="Try again", cancel_label="Wait")
        else:
            if kind is ActionKind.CONFLICT:
                self.state.spawn(self._refresh_config())
            self._dialog(action, retry if action.retryable else None)

    async def _refresh_config(self) -> None:
        with contextlib.suppress(CanteenError):
            await self.state.refresh_config()

    def _dialog(
        self,
        action: UiAction,
        retry: Handler | None,
        *,
        retry_label: str = "Retry",
        cancel_label: str = "OK",
    ) -> None:
        async def do_retry() -> None:
            self.close_dialog()
            if retry is not None:
                await retry()

        actions: list[ft.Control] = [ft.TextButton(cancel_label, on_click=self.close_dialog)]
        if retry is not None:
            actions.append(ft.FilledButton(retry_label, on_click=do_retry))
        self.page.show_dialog(
            ft.AlertDialog(
                title=ft.Text(action.title),
                content=ft.Text(action.message),
                actions=actions,
                modal=True,
            )
        )

    def _remove_dialog(
        self,
        action: UiAction,
        error: ConflictFailure,
        on_remove: Callable[[ConflictFailure], Awaitable[None]] | None,
    ) -> None:
        async def remove() -> None:
            self.close_dialog()
            if on_remove is not None:
                await on_remove(error)

        self.page.show_dialog(
            ft.AlertDialog(
                title=ft.Text(action.title),
                content=ft.Text(action.message + "\n\nRemove them and continue?"),
                actions=[
                    ft.TextButton("Keep cart", on_click=self.close_dialog),
                    ft.FilledButton("Remove and continue", on_click=remove),
                ],
                modal=True,
            )
        )

    def ask_to_sign_in(self, message: str) -> None:
        if self._sign_in_dialog_open:
            return
        self._sign_in_dialog_open = True

        async def sign_in() -> None:
            self._sign_in_dialog_open = False
            self.close_dialog()
            top = self.top
            if top is not None and top.route.name != "login":
                self.pending_route = top.route.path
            await self.go("/login")

        self.page.show_dialog(
            ft.AlertDialog(
                title=ft.Text("Please sign in again"),
                content=ft.Text(message),
                actions=[ft.FilledButton("Sign in", on_click=sign_in)],
                modal=True,
            )
        )

    def _signed_out(self, reason: str) -> None:
        self.ask_to_sign_in("Your session has ended. Sign in again to continue.")
        self.update()

    async def retry_connection(self) -> None:
        async def check() -> None:
            await self.state.refresh_config()

        if await self.state.network.probe(check):
            top = self.top
            if top is not None:
                await top.shown()
            self.refresh()
        else:
            self.toast("Still offline")

    # ---- UPI ---------------------------------------------------------------------------

    async def open_payment(self, order: Order) -> None:
        """Open the gateway's hosted checkout (the sandbox locally) in the browser."""
        url = self.state.payments.checkout_url(order)
        if url is None:
            self.toast("This order has no payment page; try again from the order")
            return
        try:
            await self.launcher.launch_url(url)
        except Exception:
            log.exception("could not open the payment page")
            self.toast("Could not open the payment page")

    # ---- UPI return (deep link / callback into the app) -----------------------------------

    async def _payment_return(self, route: Route) -> None:
        from canteen_app.state.checkout import parse_payment_return

        result = parse_payment_return(route.query)
        order_id = result.order_id
        if order_id is None:
            await self.go("/orders")
            return
        checkout_result = result.result
        if checkout_result is not None:
            order = await self.attempt(
                lambda: self.state.payments.verify(order_id, checkout_result)
            )
            if order is not None:
                self.toast(f"Payment received: order {order.number} is confirmed")
        elif result.status == "failure":
            self.toast(result.error or "The payment did not go through")
        await self.go(f"/orders/{order_id}")
