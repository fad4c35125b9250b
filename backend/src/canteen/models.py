"""Every model, imported in one place for Alembic and the test database helpers."""

from canteen.core.db import Base
from canteen.dev.models import DevOutboxMessage
from canteen.events.models import Event
from canteen.users.models import DeviceToken, User

__all__ = ["Base", "DevOutboxMessage", "DeviceToken", "Event", "User"]
