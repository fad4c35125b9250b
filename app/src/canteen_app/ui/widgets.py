"""Small reusable pieces of the UI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import flet as ft

from canteen_app.state.status import Banner, BannerKind

Handler = Callable[[], Coroutine[Any, Any, None]]

DIET_COLOURS = {
    "veg": ft.Colors.GREEN_700,
    "egg": ft.Colors.AMBER_800,
    "non_veg": ft.Colors.RED_700,
}
DIET_NAMES = {"veg": "Veg", "egg": "Egg", "non_veg": "Non-veg"}
BANNER_STYLE = {
    BannerKind.OFFLINE: (ft.Icons.WIFI_OFF, ft.Colors.GREY_800, ft.Colors.WHITE),
    BannerKind.CLOSED: (ft.Icons.STOREFRONT, ft.Colors.RED_100, ft.Colors.RED_900),
    BannerKind.PAUSED: (ft.Icons.PAUSE_CIRCLE, ft.Colors.AMBER_100, ft.Colors.BROWN_900),
}


def on(fn: Callable[..., Awaitable[Any]], *args: Any) -> Handler:
    """An event handler (a coroutine function with no parameters) calling fn(*args)."""

    async def handler() -> None:
        await fn(*args)

    return handler


def items_text(count: int) -> str:
    """ "1 item", "2 items"."""
    return f"{count} item" if count == 1 else f"{count} items"


def money(paise: int) -> str:
    rupees, rest = divmod(paise, 100)
    return f"₹{rupees:,}" if rest == 0 else f"₹{rupees:,}.{rest:02d}"


def diet_mark(diet: str, size: int = 14) -> ft.Control:
    """The veg / egg / non-veg mark: a coloured square with a dot."""
    colour = DIET_COLOURS.get(diet, ft.Colors.GREY)
    return ft.Container(
        width=size,
        height=size,
        border=ft.Border.all(2, colour),
        border_radius=2,
        alignment=ft.Alignment.CENTER,
        content=ft.Container(width=size / 2.5, height=size / 2.5, bgcolor=colour, border_radius=10),
        tooltip=DIET_NAMES.get(diet, diet),
    )


def banner_row(banner: Banner, on_retry: Handler | None = None) -> ft.Control:
    icon, bg, fg = BANNER_STYLE[banner.kind]
    controls: list[ft.Control] = [
        ft.Icon(icon, color=fg, size=18),
        ft.Text(banner.text, color=fg, expand=True, size=13),
    ]
    if banner.kind is BannerKind.OFFLINE and on_retry is not None:
        controls.append(ft.TextButton("Retry", on_click=on_retry))
    return ft.Container(
        content=ft.Row(controls, spacing=8),
        bgcolor=bg,
        padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        border_radius=8,
    )


def icon_action(
    icon: ft.IconData,
    label: str,
    handler: Handler,
    *,
    disabled: bool = False,
    color: ft.ColorValue | None = None,
) -> ft.Control:
    """An icon button whose label reaches the accessibility tree (screen readers, tests)."""
    return ft.Semantics(
        label=label,
        button=True,
        container=True,
        content=ft.IconButton(icon, on_click=handler, disabled=disabled, icon_color=color),
    )


def qty_stepper(
    name: str, quantity: int, on_minus: Handler, on_plus: Handler, *, plus_enabled: bool = True
) -> ft.Row:
    return ft.Row(
        [
            icon_action(ft.Icons.REMOVE_CIRCLE_OUTLINE, f"One less {name}", on_minus),
            ft.Text(str(quantity), size=16, weight=ft.FontWeight.BOLD),
            icon_action(
                ft.Icons.ADD_CIRCLE_OUTLINE,
                f"One more {name}",
                on_plus,
                disabled=not plus_enabled,
            ),
        ],
        spacing=0,
        tight=True,
    )


def dish_photo(
    url: str | None,
    name: str,
    *,
    width: float | None = None,
    height: float = 64,
    radius: float = 8,
    icon_size: float = 24,
) -> ft.Control:
    """The dish's photo over its placeholder: the placeholder shows while the photo
    loads, when it fails (`error_content`) and when there is none, never an empty gap.
    The photo carries "Photo of <dish>" for screen readers (and the tests)."""

    def placeholder(label: str | None) -> ft.Control:
        box = ft.Container(
            ft.Icon(ft.Icons.RESTAURANT, color=ft.Colors.OUTLINE, size=icon_size),
            width=width,
            height=height,
            bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
            border_radius=radius,
            alignment=ft.Alignment.CENTER,
        )
        if label is None:
            return box
        return ft.Semantics(label=label, image=True, container=True, content=box)

    if not url:
        return placeholder(f"No photo of {name}")
    return ft.Stack(
        [
            placeholder(None),
            ft.Image(
                src=url,
                width=width,
                height=height,
                fit=ft.BoxFit.COVER,
                border_radius=radius,
                semantics_label=f"Photo of {name}",
                error_content=placeholder(f"No photo of {name}"),
                gapless_playback=True,
            ),
        ],
        width=width,
        height=height,
    )


def section_title(text: str) -> ft.Text:
    return ft.Text(text, size=16, weight=ft.FontWeight.W_600)


def empty_state(icon: ft.IconData, text: str, action: ft.Control | None = None) -> ft.Control:
    items: list[ft.Control] = [
        ft.Icon(icon, size=48, color=ft.Colors.OUTLINE),
        ft.Text(text, text_align=ft.TextAlign.CENTER),
    ]
    if action is not None:
        items.append(action)
    return ft.Container(
        content=ft.Column(items, horizontal_alignment=ft.CrossAxisAlignment.CENTER),
        alignment=ft.Alignment.CENTER,
        padding=32,
    )
