"""`AppState`: everything one app session knows, with no Flet in it.

It owns the SDK client (one per session), the device storage and the per-area states,
tracks the network (a `NetworkFailure` anywhere sets the offline banner; any answer
clears it) and the public config (banners, checkout options), and tells its listeners
when something changed so the screens can redraw.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from canteen_app import __version__
from canteen_app.state.alerts import ReadyWatcher
from canteen_app.state.cart import Cart, limit_problem
from canteen_app.state.checkout import CheckoutState, PaymentState, fit_to_config, totals
from canteen_app.state.live import LiveMenu
from canteen_app.state.menu import MenuState, choose_slot
from canteen_app.state.orders import OrdersState
from canteen_app.state.push import NoopPushRegistrar, PushRegistrar, PushState
from canteen_app.state.session import AuthState
from canteen_app.state.status import Banner, NetworkStatus, banners_for
from canteen_app.state.tracking import TrackingState
from canteen_app.storage import FileStore, KeyValueStore, StoreTokenStore
from canteen_client import (
    CanteenClient,
    CanteenError,
    FileTokenStore,
    MenuItem,
    NetworkFailure,
    PublicConfig,
    ServerFailure,
    TokenStore,
)

log = logging.getLogger("canteen_app")
T = TypeVar("T")

CONFIG_KEY = "config"


@dataclass(frozen=True)
class AppSettings:
    api_url: str
    data_dir: Path
    platform: str = "web"  # X-Platform and the device-token platform: web | android | ios
    storage: str = "file"  # file (data dir) | client (Flet client storage)
    offline_probe_interval: float = 5.0
    config_interval: float = 300.0  # design §10.3: on start and every 5 minutes
    tracking_poll_interval: float = 5.0
    # Development and tests only: the device's clock runs this far ahead of real time, as a
    # test run's backend's does (CANTEEN_CLOCK_OFFSET_SECONDS there); a phone has none.
    clock_offset_seconds: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)


class AppState:
    def __init__(
        self,
        settings: AppSettings,
        *,
        store: KeyValueStore | None = None,
        token_store: TokenStore | None = None,
        push: PushRegistrar | None = None,
    ) -> None:
        self.settings = settings
        self.store: KeyValueStore = store or FileStore(settings.data_dir)
        if token_store is None:
            token_store = (
                FileTokenStore(settings.data_dir / "tokens.json")
                if isinstance(self.store, FileStore)
                else StoreTokenStore(self.store)
            )
        self.api = CanteenClient(
            settings.api_url,
            platform=settings.platform,
            app_version=__version__,
            token_store=token_store,
            config_ttl=settings.config_interval,
            wall_clock=self.now,
            on_signed_out=self._signed_out,
        )
        self.network = NetworkStatus()
        self.auth = AuthState(self.api)
        self.cart = Cart(self.store)
        self.menu = MenuState(self.api)
        self.checkout = CheckoutState(self.api, self.cart)
        self.payments = PaymentState(self.api)
        self.orders = OrdersState(self.api)
        self.push = PushState(self.api, push or NoopPushRegistrar())
        self.ready = ReadyWatcher(self.api, poll_interval=settings.tracking_poll_interval)
        self.live = LiveMenu(self.api, self.refresh_all, self._sold_out)
        self.config: PublicConfig | None = None
        self.signed_out_reason: str | None = None
        self._listeners: list[Callable[[], None]] = []
        self._signed_out_listeners: list[Callable[[str], None]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.cart.on_change(self.changed)
        self.network.on_change(lambda _online: self.changed())

    # ---- listeners -------------------------------------------------------------------

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def on_signed_out(self, listener: Callable[[str], None]) -> None:
        self._signed_out_listeners.append(listener)

    def changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("a state listener failed")

    async def _signed_out(self, reason: str) -> None:
        self.auth.forget()
        if reason == "logout":
            return
        self.signed_out_reason = reason
        for listener in list(self._signed_out_listeners):
            listener(reason)

    # ---- calls -----------------------------------------------------------------------

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run an API call and keep the network status up to date."""
        try:
            result = await fn()
        except NetworkFailure:
            self.network.set(False)
            raise
        except CanteenError:
            self.network.set(True)  # the server answered
            raise
        self.network.set(True)
        return result

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Load what the device has (cart, session, last config), then ask the server."""
        await self.cart.load()
        await self.auth.restore()
        saved = await self.store.get(CONFIG_KEY)
        if isinstance(saved, dict) and self.config is None:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                self.config = self.checkout.config = PublicConfig.from_json(saved)
        with contextlib.suppress(CanteenError):
            await self.refresh_config()
        if self.auth.signed_in:
            self.spawn(self._register_push())
            self.spawn(self.ready.watch_open_orders())
            self.live.start()

    def spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        async def run() -> None:
            await coro

        task = asyncio.create_task(run())
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)
        return task

    def start_background(self) -> None:
        """The config watcher (every 5 minutes) and the offline monitor."""
        self.spawn(self._watch_config())
        self.spawn(self._monitor_network())

    async def close(self) -> None:
        tasks, self._tasks = list(self._tasks), []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.ready.stop()
        await self.live.stop()
        await self.api.aclose()

    async def _watch_config(self) -> None:
        while True:
            await asyncio.sleep(self.settings.config_interval)
            with contextlib.suppress(CanteenError):
                await self.refresh_config()

    async def _monitor_network(self) -> None:
        while True:
            await asyncio.sleep(self.settings.offline_probe_interval)
            if not self.network.online:

                async def check() -> None:
                    await self.refresh_config()

                if await self.network.probe(check):
                    log.info("back online")

    async def _register_push(self) -> None:
        with contextlib.suppress(CanteenError):
            await self.push.register()

    # ---- config and menu ---------------------------------------------------------------

    async def refresh_config(self) -> PublicConfig:
        config = await self.call(lambda: self.api.menu.config(force=True))
        self.config = config
        self.checkout.config = config
        self.checkout.form = fit_to_config(self.checkout.form, config)
        await self.store.set(CONFIG_KEY, config.raw)
        self.changed()
        return config

    async def refresh_all(self) -> None:
        """Re-read the settings and, if one is shown, the menu (on resume, a live
        message, the menu screen showing, right before checkout). Cheap: the menu
        answers 304 to the SDK's ETag when nothing changed."""
        await self.refresh_config()
        if self.menu.loaded:  # the slot shown, without touching the checkout's choices
            slot = self.menu.slot
            await self.call(lambda: self.menu.load(slot))
            await self.cart.sync_with_menu(self.menu.items)
            self.changed()

    def _sold_out(self, item_id: str) -> None:
        if self.menu.mark_sold_out(item_id):
            self.changed()

    def checkout_blocked(self) -> str | None:
        """Why checkout is off right now, in words (None: it is on). The live channel
        keeps settings and menu fresh, so this follows a pause or a sell-out at once."""
        config = self.config
        if config is not None and not config.accepting_orders:
            if not config.restaurant_open:
                return "The canteen is closed: you can order again when it opens."
            return "The kitchen has paused new orders: checkout comes back when they resume."
        cart = self.cart
        if cart.is_empty:
            return "Your cart is empty."
        if self.menu.loaded:
            gone = [
                line.name
                for line in cart.lines
                if (item := self.menu_item(line.menu_item_id)) is not None and not item.orderable
            ]
            if gone:
                return f"Remove {', '.join(gone)} to check out: not available right now."
        _, _, total = totals(cart, self.checkout.form, config)
        return limit_problem(cart.count, total, config)

    @property
    def banners(self) -> list[Banner]:
        return banners_for(self.config, self.network.online)

    @property
    def accepting_orders(self) -> bool:
        return self.config is None or self.config.accepting_orders

    def now(self) -> datetime:
        """The device's time of day (UTC), against which the server's times are read."""
        return datetime.now(UTC) + timedelta(seconds=self.settings.clock_offset_seconds)

    def default_slot(self) -> str | None:
        if self.config is None:
            return None
        slot = choose_slot(self.config, self.now())
        return slot.code if slot else None

    async def load_menu(self, slot: str | None = None) -> None:
        slot = slot or self.menu.slot or self.default_slot()
        await self.call(lambda: self.menu.load(slot))
        if self.checkout.form.time_slot != slot:
            from dataclasses import replace

            self.checkout.form = replace(self.checkout.form, time_slot=slot)
        await self.cart.sync_with_menu(self.menu.items)
        self.changed()

    def menu_item(self, item_id: str) -> MenuItem | None:
        return next((i for i in self.menu.items if i.id == item_id), None)

    # ---- session -----------------------------------------------------------------------

    async def signed_in(self) -> None:
        self.signed_out_reason = None
        self.changed()
        self.spawn(self._register_push())
        self.spawn(self.ready.watch_open_orders())
        self.live.start()

    async def logout(self) -> None:
        """Sign out on this device only: its tokens, cart and history go (a shared
        computer's next student starts empty); other browsers and phones keep theirs."""
        await self.ready.stop()
        await self.live.stop()
        await self.push.unregister()
        await self.auth.logout()
        await self.cart.clear()
        self.checkout.attempt = None
        self.orders.orders = []
        self.orders.loaded = False
        self.changed()

    def tracking(
        self, order_id: str, on_change: Callable[[], None] = lambda: None
    ) -> TrackingState:
        return TrackingState(
            self.api,
            order_id,
            on_change,
            poll_interval=self.settings.tracking_poll_interval,
        )


def is_transient(error: CanteenError) -> bool:
    return isinstance(error, NetworkFailure | ServerFailure)
