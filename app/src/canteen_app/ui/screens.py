"""Which screen class draws which route."""

from __future__ import annotations

from typing import TYPE_CHECKING

from canteen_app.ui.cart import CartScreen, CheckoutScreen
from canteen_app.ui.login import LoginScreen
from canteen_app.ui.menu import ItemScreen, MenuScreen
from canteen_app.ui.orders import ClosedScreen, OrdersScreen, TrackingScreen

if TYPE_CHECKING:
    from canteen_app.ui.base import Screen

SCREENS: dict[str, type[Screen]] = {
    "login": LoginScreen,
    "menu": MenuScreen,
    "item": ItemScreen,
    "cart": CartScreen,
    "checkout": CheckoutScreen,
    "orders": OrdersScreen,
    "tracking": TrackingScreen,
    "closed": ClosedScreen,
}
