"""The tracker follows a recall (issue 17, part 6): a handover or a kitchen cancel may be
put back for 5 minutes, so the server keeps the socket open that long and the tracker
keeps following; it stops when the server closes the socket on a final status."""

from __future__ import annotations

import asyncio
from typing import Any

from canteen_client import CanteenClient, EventType, OrderState
from canteen_client.tracking import OrderTracker

from .sdk_harness import live_api, seed_menu, set_status, sign_in, staff_session

API = "/api/v1"
END = object()  # what the consumer queues once the tracker has stopped


class Follow:
    """Consumes a tracker in the background, so a test can tell "nothing yet" from
    "stopped" (a timed-out `anext` would end the tracker itself)."""

    def __init__(self, tracker: OrderTracker) -> None:
        self.tracker = tracker
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for state in self.tracker:
                await self.queue.put(state)
        finally:
            await self.queue.put(END)

    async def next(self, timeout: float = 10.0) -> OrderState:
        item = await asyncio.wait_for(self.queue.get(), timeout)
        assert item is not END, "the tracker stopped"
        assert isinstance(item, OrderState)
        return item

    async def until(self, status: str) -> OrderState:
        state = await self.next()
        while state.status != status:
            state = await self.next()
        return state

    async def still_following(self, seconds: float = 1.5) -> None:
        await asyncio.sleep(seconds)
        assert self.queue.empty() and not self.task.done()

    async def stopped(self, timeout: float = 10.0) -> None:
        assert await asyncio.wait_for(self.queue.get(), timeout) is END
        await self.task  # ended cleanly, not with an error

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def _staff_post(raw: Any, staff: dict[str, Any], path: str, body: dict[str, Any]) -> None:
    r = await raw.post(
        f"{API}{path}", json=body, headers={"Authorization": f"Bearer {staff['access_token']}"}
    )
    assert r.status_code == 200, r.text


async def test_the_tracker_follows_a_recalled_handover_until_the_window_passes(
    api: CanteenClient, raw, container, app, clock
):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    kitchen = await staff_session(raw, container, "kitchen", "+919000000201")
    order = await api.orders.place([(m.dosa, 1)], time_slot="allday")
    for status in ("preparing", "ready"):
        await set_status(raw, kitchen, order.id, status)
    handover = {"pickup_code": order.pickup_code}
    async with live_api(app, token_store=api.token_store) as live, live.track(order.id) as tr:
        follow = Follow(tr)
        try:
            assert (await follow.next()).status == "ready"
            await _staff_post(raw, kitchen, f"/admin/orders/{order.id}/handover", handover)
            done = await follow.next()
            assert done.status == "completed" and done.is_terminal
            await follow.still_following()
            await _staff_post(
                raw, kitchen, f"/admin/orders/{order.id}/recall", {"reason": "Wrong student"}
            )
            back = await follow.next()
            assert back.event == EventType.order_recalled
            assert (back.status, back.payment_status) == ("ready", "cash_due")
            assert not back.is_terminal and back.source == "websocket"
            assert back.data["from"] == "completed" and back.data["reason"] == "Wrong student"
            await _staff_post(raw, kitchen, f"/admin/orders/{order.id}/handover", handover)
            assert (await follow.next()).status == "completed"
            clock.advance(5 * 60 + 3)  # the recall window passes: the server closes
            await follow.stopped()
        finally:
            await follow.close()
        assert tr.mode == "websocket" and tr.connections == 1 and tr.delays == []
        assert tr.last is not None and tr.last.status == "completed"


async def test_the_tracker_follows_a_recalled_kitchen_cancel_into_the_next_status(
    api: CanteenClient, raw, container, app
):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    kitchen = await staff_session(raw, container, "kitchen", "+919000000201")
    order = await api.orders.place([(m.dosa, 1)], time_slot="allday")
    async with live_api(app, token_store=api.token_store) as live, live.track(order.id) as tr:
        follow = Follow(tr)
        try:
            assert (await follow.next()).status == "confirmed"
            await set_status(raw, kitchen, order.id, "cancelled", reason="Ran out")
            assert (await follow.next()).status == "cancelled"
            await follow.still_following()
            await _staff_post(raw, kitchen, f"/admin/orders/{order.id}/recall", {"reason": "No"})
            back = await follow.next()
            assert (back.event, back.status) == (EventType.order_recalled, "confirmed")
            await set_status(raw, kitchen, order.id, "preparing")
            assert (await follow.next()).status == "preparing"
            await follow.still_following()
        finally:
            await follow.close()
        assert tr.connections == 1 and tr.delays == []


async def test_the_tracker_stops_at_once_on_the_students_own_cancel(
    api: CanteenClient, raw, container, app
):
    m = await seed_menu(container)
    await sign_in(api, raw, container)
    order = await api.orders.place([(m.chai, 1)], time_slot="allday")
    async with live_api(app, token_store=api.token_store) as live, live.track(order.id) as tr:
        follow = Follow(tr)
        try:
            assert (await follow.next()).status == "confirmed"
            await api.orders.cancel(order.id, "changed my mind")
            assert (await follow.next()).status == "cancelled"
            await follow.stopped(timeout=3.0)
        finally:
            await follow.close()
        assert tr.connections == 1 and tr.delays == []
