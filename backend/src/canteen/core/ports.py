"""What the container holds, as seen from core: Protocols, never the domains' classes.

`core` is the floor every domain stands on, so it names no domain. The composition root
(`canteen.bootstrap`) fills the container with the domains' implementations; each one
satisfies the Protocol here structurally. Values whose shape belongs to a domain
(an SMS message, a gateway order, a catalogue) are `Any` here: the domain that makes and
reads them types them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

Message = dict[str, Any]


class OutboxDispatcher(Protocol):
    """Delivers committed events (canteen.events.dispatcher)."""

    def kick(self) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class EventBus(Protocol):
    """Carries event messages to every process's hub (canteen.realtime.bus)."""

    async def publish(self, message: Message) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class RealtimeHub(Protocol):
    """This process's fan-out to its sockets and streams (canteen.realtime.hub)."""

    accounts: Any
    displays: Any  # revoked display tokens end their streams (realtime.display_watch)
    position: int | None

    def deliver(self, message: Message) -> None: ...
    async def catch_up(self, lost_at: datetime | None, *, live: bool = True) -> int: ...
    def order_subscription(
        self, order_id: str, listener: Callable[[Message], None]
    ) -> AbstractContextManager[None]: ...
    def menu_subscription(
        self, listener: Callable[[Message], None]
    ) -> AbstractContextManager[None]: ...
    def kitchen_subscription(self) -> AbstractContextManager[Any]: ...


class CatalogueSource(Protocol):
    """The priced catalogue that order placement checks against (canteen.menu.catalogue)."""

    async def get(self, session: AsyncSession, version: int) -> Any: ...
    @property
    def latest(self) -> Any: ...


class PublicMenu(Protocol):
    """This process's cache of the public menu (canteen.menu.cache)."""

    async def categories(self, raw_query: bytes, if_none_match: str | None) -> Response: ...
    async def items(self, raw_query: bytes, if_none_match: str | None) -> Response: ...
    async def item(self, item_id: uuid.UUID, if_none_match: str | None) -> Response: ...
    async def close(self) -> None: ...


class SmsSender(Protocol):
    """canteen.sms.base.SmsProvider"""

    name: str

    async def send(self, message: Any) -> Any: ...


class PushSender(Protocol):
    """canteen.notifications.push.PushProvider"""

    name: str

    async def send_many(self, messages: Sequence[Any]) -> list[Any]: ...


class Gateway(Protocol):
    """canteen.payments.gateway.PaymentGateway"""

    name: str
    key_id: str

    async def create_order(
        self, *, amount: int, currency: str, receipt: str, notes: dict[str, str]
    ) -> Any: ...
    async def fetch_order(self, order_id: str) -> Any: ...
    async def order_payments(self, order_id: str) -> list[Any]: ...
    async def fetch_payment(self, payment_id: str) -> Any: ...
    async def refund(
        self,
        payment_id: str,
        *,
        amount: int | None,
        idempotency_key: str,
        notes: dict[str, str] | None = None,
    ) -> Any: ...
    def verify_payment_signature(self, order_id: str, payment_id: str, signature: str) -> bool: ...
    def verify_webhook_signature(self, raw_body: bytes, signature: str) -> bool: ...
    def checkout_url(self, gateway_order_id: str, callback_url: str) -> str | None: ...


class FileStore(Protocol):
    """canteen.storage.base.Storage"""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def delete(self, key: str) -> None: ...
    def url(self, key: str) -> str: ...
    async def exists(self, key: str) -> bool: ...
