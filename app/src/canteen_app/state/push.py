"""Push notifications (design §9): register the device's FCM token, route taps.

The app talks to push through `PushRegistrar`. Web and desktop builds have no FCM, so
they use `NoopPushRegistrar`. A mobile build plugs in a registrar backed by Firebase
Cloud Messaging (docs/app.md, "Push"): it hands over the token, calls back when FCM
rotates it, and calls back with the message's `data` when a notification is tapped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from uuid import UUID

from canteen_client import CanteenClient, CanteenError

log = logging.getLogger("canteen_app.push")

TokenCallback = Callable[[str], Awaitable[None]]
TapCallback = Callable[[Mapping[str, Any]], Awaitable[None]]


class PushRegistrar(Protocol):
    platform: str  # android | ios | web

    @property
    def supported(self) -> bool: ...

    async def get_token(self) -> str | None: ...

    def on_token_refresh(self, callback: TokenCallback) -> None: ...

    def on_notification_tap(self, callback: TapCallback) -> None: ...


class NoopPushRegistrar:
    """Web and desktop: no push; nothing is registered."""

    platform = "web"

    @property
    def supported(self) -> bool:
        return False

    async def get_token(self) -> str | None:
        return None

    def on_token_refresh(self, callback: TokenCallback) -> None:
        pass

    def on_notification_tap(self, callback: TapCallback) -> None:
        pass


class StaticPushRegistrar:
    """A registrar with a token given from outside (tests, and a mobile shell that gets the
    FCM token natively and passes it in). `tap(data)` and `refresh(token)` play the
    platform's callbacks."""

    def __init__(self, token: str | None, platform: str = "android") -> None:
        self.token = token
        self.platform = platform
        self._on_refresh: list[TokenCallback] = []
        self._on_tap: list[TapCallback] = []

    @property
    def supported(self) -> bool:
        return True

    async def get_token(self) -> str | None:
        return self.token

    def on_token_refresh(self, callback: TokenCallback) -> None:
        self._on_refresh.append(callback)

    def on_notification_tap(self, callback: TapCallback) -> None:
        self._on_tap.append(callback)

    async def refresh(self, token: str) -> None:
        self.token = token
        for callback in list(self._on_refresh):
            await callback(token)

    async def tap(self, data: Mapping[str, Any]) -> None:
        for callback in list(self._on_tap):
            await callback(data)


def route_for_notification(data: Mapping[str, Any] | None) -> str | None:
    """The screen a tapped notification opens (design §9.3): `click_action ==
    "ORDER_TRACKING"` with an `order_id` → `/orders/{order_id}`; anything else → None."""
    if not data:
        return None
    if str(data.get("click_action", "")).upper() != "ORDER_TRACKING":
        return None
    order_id = str(data.get("order_id") or "").strip()
    try:
        return f"/orders/{UUID(order_id)}"
    except ValueError:
        return None


class PushState:
    """Registers the token after sign-in and whenever it rotates; forgets it on logout."""

    def __init__(self, api: CanteenClient, registrar: PushRegistrar) -> None:
        self.api = api
        self.registrar = registrar
        self.registered: str | None = None
        registrar.on_token_refresh(self._refreshed)

    async def register(self) -> str | None:
        if not self.registrar.supported:
            return None
        token = await self.registrar.get_token()
        if token:
            try:
                await self.api.devices.register(token, self.registrar.platform)
                self.registered = token
            except CanteenError as exc:  # the next start or token refresh tries again
                log.warning("could not register the push token: %s", exc)
        return self.registered

    async def _refreshed(self, token: str) -> None:
        if await self.api.is_signed_in():
            await self.api.devices.register(token, self.registrar.platform)
            self.registered = token

    async def unregister(self) -> None:
        token, self.registered = self.registered, None
        if token:
            try:
                await self.api.devices.unregister(token)
            except CanteenError as exc:
                log.info("could not unregister the push token: %s", exc)
