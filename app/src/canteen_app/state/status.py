"""Banners: a closed canteen, paused orders, no network (design §10.3, §11.2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from canteen_client import PublicConfig


class BannerKind(StrEnum):
    OFFLINE = "offline"
    CLOSED = "closed"
    PAUSED = "paused"


@dataclass(frozen=True)
class Banner:
    kind: BannerKind
    text: str


def banners_for(config: PublicConfig | None, online: bool) -> list[Banner]:
    banners: list[Banner] = []
    if not online:
        banners.append(Banner(BannerKind.OFFLINE, "No network connection. Showing saved data."))
    if config is not None:
        if not config.restaurant_open:
            banners.append(
                Banner(BannerKind.CLOSED, "The canteen is closed. You can browse the menu.")
            )
        elif config.ordering_paused:
            banners.append(
                Banner(BannerKind.PAUSED, "The kitchen has paused new orders. Try again soon.")
            )
    return banners


class NetworkStatus:
    """Online until a call fails for want of a network; back online after any answer.

    While offline, `probe` (a cheap request) is tried every `interval` seconds by the
    app's monitor loop."""

    def __init__(self) -> None:
        self.online = True
        self._listeners: list[Callable[[bool], None]] = []

    def on_change(self, listener: Callable[[bool], None]) -> None:
        self._listeners.append(listener)

    def set(self, online: bool) -> None:
        if online != self.online:
            self.online = online
            for listener in list(self._listeners):
                listener(online)

    async def probe(self, check: Callable[[], Awaitable[object]]) -> bool:
        """Run `check`; online if it answered (any answer), offline if it could not."""
        from canteen_client import NetworkFailure

        try:
            await check()
        except NetworkFailure:
            self.set(False)
            return False
        except Exception:  # an error answer still proves the network works
            self.set(True)
            return True
        self.set(True)
        return True
