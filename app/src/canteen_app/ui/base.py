"""The screen base class: one `ft.View` per route, built once, refreshed from state."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flet as ft

from canteen_app.ui.router import Route
from canteen_app.ui.widgets import banner_row

if TYPE_CHECKING:
    from canteen_app.state.app_state import AppState
    from canteen_app.ui.app import CanteenApp


class Screen:
    title = "Canteen"

    def __init__(self, app: CanteenApp, route: Route) -> None:
        self.app = app
        self.route = route
        self.banners = ft.Column(spacing=6)
        controls: list[ft.BaseControl] = [self.banners, *self.build()]
        self.view = ft.View(
            route=route.path,
            appbar=self.appbar(),
            controls=controls,
            bottom_appbar=self.bottom_bar(),
            scroll=ft.ScrollMode.AUTO,
            padding=ft.Padding.symmetric(horizontal=14, vertical=10),
        )
        self.refresh_banners()

    @property
    def state(self) -> AppState:
        return self.app.state

    @property
    def page(self) -> ft.Page:
        return self.app.page

    def appbar(self) -> ft.AppBar:
        return ft.AppBar(title=ft.Text(self.title))

    def build(self) -> list[ft.Control]:
        return []

    def bottom_bar(self) -> ft.BottomAppBar | None:
        """A bar pinned below the scrolling content (called after `build`)."""
        return None

    def refresh(self) -> None:
        """Redraw from the state (called after every state change)."""
        self.refresh_banners()

    def redraw(self) -> None:
        """Refresh and send the changes to the client now."""
        self.refresh()
        self.app.update()

    def refresh_banners(self) -> None:
        self.banners.controls = [
            banner_row(b, on_retry=self.app.retry_connection) for b in self.state.banners
        ]

    async def shown(self) -> None:
        """The screen became the top one: load what it needs."""

    async def hidden(self) -> None:
        """The screen left the stack: stop what it runs."""

    def tick(self) -> bool:
        """Called every second while on top; True when something changed."""
        return False
