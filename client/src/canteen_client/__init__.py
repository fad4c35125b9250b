"""Canteen API client SDK: async, on httpx and websockets.

    from canteen_client import CanteenClient, FileTokenStore

    async with CanteenClient("https://api.example.com", token_store=FileTokenStore(path)) as api:
        ...

See client/README.md for the whole tour.
"""

from canteen_client._version import __version__
from canteen_client.auth import AuthAPI, Session
from canteen_client.client import CanteenClient
from canteen_client.devices import DevicesAPI
from canteen_client.errors import (
    ApiFailure,
    AuthFailure,
    CanteenError,
    ConflictFailure,
    NetworkFailure,
    NotFoundFailure,
    OrderLimit,
    PriceChange,
    RateLimitFailure,
    ServerFailure,
    TotalChange,
    UnavailableItem,
    ValidationFailure,
)
from canteen_client.events import EventType
from canteen_client.menu import CacheStats, MenuAPI
from canteen_client.models import (
    Category,
    DeviceToken,
    Feedback,
    KitchenWindow,
    KitchenWindows,
    MenuItem,
    Order,
    OrderAction,
    OrderLine,
    OrderState,
    OtpRequested,
    Page,
    PaymentInfo,
    PublicConfig,
    RefundInfo,
    TimeSlot,
    User,
)
from canteen_client.orders import CartLine, Checkout, OrdersAPI
from canteen_client.payments import CheckoutResult, PaymentsAPI, SandboxOutcome
from canteen_client.tokens import FileTokenStore, MemoryTokenStore, Tokens, TokenStore
from canteen_client.tracking import MenuMessage, MenuWatcher, OrderTracker
from canteen_client.users import UsersAPI

__all__ = [
    "ApiFailure",
    "AuthAPI",
    "AuthFailure",
    "CacheStats",
    "CanteenClient",
    "CanteenError",
    "CartLine",
    "Category",
    "Checkout",
    "CheckoutResult",
    "ConflictFailure",
    "DeviceToken",
    "DevicesAPI",
    "EventType",
    "Feedback",
    "FileTokenStore",
    "KitchenWindow",
    "KitchenWindows",
    "MemoryTokenStore",
    "MenuAPI",
    "MenuItem",
    "MenuMessage",
    "MenuWatcher",
    "NetworkFailure",
    "NotFoundFailure",
    "Order",
    "OrderAction",
    "OrderLimit",
    "OrderLine",
    "OrderState",
    "OrderTracker",
    "OrdersAPI",
    "OtpRequested",
    "Page",
    "PaymentInfo",
    "PaymentsAPI",
    "PriceChange",
    "PublicConfig",
    "RateLimitFailure",
    "RefundInfo",
    "SandboxOutcome",
    "ServerFailure",
    "Session",
    "TimeSlot",
    "TokenStore",
    "Tokens",
    "TotalChange",
    "UnavailableItem",
    "User",
    "UsersAPI",
    "ValidationFailure",
    "__version__",
]
