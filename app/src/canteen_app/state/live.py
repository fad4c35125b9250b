"""The live menu: the SDK's `MenuWatcher` (the students' SSE channel) drives re-reads.

Every message means "re-read the menu and the public config" (the SDK's ETags make the
menu re-read a 304 when nothing in this slot moved). A sold-out dish is flagged at once,
before the re-read lands, so a cart holding it says so. Messages arriving while a
re-read runs are folded into one more re-read, never queued one by one. The 5-minute
config poll stays underneath as the floor (a firewall that drops streams, an old server).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from canteen_client import AuthFailure, CanteenClient, CanteenError, MenuMessage

log = logging.getLogger("canteen_app.live")


class LiveMenu:
    def __init__(
        self,
        api: CanteenClient,
        refresh: Callable[[], Awaitable[None]],
        on_sold_out: Callable[[str], None],
        *,
        retry_after: float = 5.0,
    ) -> None:
        self.api = api
        self._refresh = refresh
        self._on_sold_out = on_sold_out
        self.retry_after = retry_after
        self.messages: list[MenuMessage] = []  # received (diagnostics, tests)
        self.refreshes = 0
        self._task: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._again = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        tasks = [t for t in (self._task, self._refresher) if t is not None]
        self._task = self._refresher = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def refresh_soon(self) -> None:
        """Re-read now, or once more right after the re-read that is running."""
        if self._refresher is not None and not self._refresher.done():
            self._again = True
            return
        self._refresher = asyncio.create_task(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        while True:
            self._again = False
            self.refreshes += 1
            try:
                await self._refresh()
            except CanteenError as exc:  # offline or 5xx: the next message tries again
                log.info("live menu: re-read failed: %s", exc)
            except Exception:
                log.exception("live menu: re-read failed")
            if not self._again:
                return

    async def _run(self) -> None:
        while True:
            try:
                async with self.api.watch_menu(jitter=0.2) as watcher:
                    async for message in watcher:
                        self.messages.append(message)
                        del self.messages[:-50]
                        if message.sold_out_item:
                            self._on_sold_out(message.sold_out_item)
                        self.refresh_soon()
            except AuthFailure as exc:  # signed out: started again after the next sign-in
                log.info("live menu: stopped: %s", exc)
                return
            except CanteenError as exc:  # e.g. refused as a bad request: try later
                log.info("live menu: %s; again in %.0fs", exc, self.retry_after)
            except Exception:
                log.exception("live menu failed")
            await asyncio.sleep(self.retry_after)
