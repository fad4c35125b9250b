"""Every model, imported in one place for Alembic and the test database helpers."""

from canteen.core.db import Base
from canteen.core.once import JobMark
from canteen.dev.models import DevOutboxMessage
from canteen.displays.models import DisplayToken
from canteen.events.models import Event
from canteen.kitchen.models import ItemTiming, KitchenWindow, SlotCapacity
from canteen.menu.models import CanteenConfig, Category, MenuItem, TimeSlot, menu_item_slots
from canteen.orders.models import Order, OrderDayCounter, OrderItem
from canteen.payments.models import Payment, Refund, WebhookEvent
from canteen.printing.models import PrinterSettings
from canteen.reports.models import ReportDay, ReportDayRollup
from canteen.stations.models import FloorSettings, LineMark, Station
from canteen.users.models import DeviceToken, User

__all__ = [
    "Base",
    "CanteenConfig",
    "Category",
    "DevOutboxMessage",
    "DeviceToken",
    "DisplayToken",
    "Event",
    "FloorSettings",
    "ItemTiming",
    "JobMark",
    "KitchenWindow",
    "LineMark",
    "MenuItem",
    "Order",
    "OrderDayCounter",
    "OrderItem",
    "Payment",
    "PrinterSettings",
    "Refund",
    "ReportDay",
    "ReportDayRollup",
    "SlotCapacity",
    "Station",
    "TimeSlot",
    "User",
    "WebhookEvent",
    "menu_item_slots",
]
