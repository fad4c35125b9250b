"""Jobs that would find nothing to do are not enqueued (issue 20), by reads the dispatcher
makes once per batch: no push for a customer without a device, no ready text while texts
are off (no ticket while printing is off: test_printing.py). The sweeps agree, so a job
skipped here is not sent later by a re-drive either."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from orders_helpers import order_body, place, register_device, seed_menu, set_config
from sqlalchemy import select
from test_payments import eventually
from test_printing import EnqueuedJobs, _dispatched

from canteen.dev.models import DevOutboxMessage
from canteen.events.models import Event
from conftest import API, bearer, login_customer, login_staff


async def _move(client, kitchen, order: dict[str, Any], *statuses: str) -> None:
    for status in statuses:
        r = await client.patch(
            f"{API}/admin/orders/{order['id']}/status",
            json={"status": status},
            headers=bearer(kitchen),
        )
        assert r.status_code == 200, r.text


def _for(jobs: EnqueuedJobs, name: str, order: dict[str, Any]) -> list[str]:
    """The statuses (or "sent") of the jobs of this name enqueued for this order."""
    return [
        str(kwargs.get("status", "sent"))
        for job, kwargs in jobs.jobs
        if job == name and kwargs.get("order_id") == order["id"]
    ]


async def test_pushes_go_only_to_customers_with_a_device_and_texts_only_while_on(
    client, container, monkeypatch
):
    m = await seed_menu(container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    without = await login_customer(client, container, "+919876500011")
    with_device = await login_customer(client, container, "+919876500012")
    await register_device(client, with_device)
    jobs = EnqueuedJobs(container.jobs)
    monkeypatch.setattr(container, "jobs", jobs)

    a = (await place(client, without, order_body((m.dosa, 1)))).json()["data"]
    b = (await place(client, with_device, order_body((m.dosa, 1)))).json()["data"]
    for order in (a, b):
        await _move(client, kitchen, order, "preparing", "ready")
    await eventually(lambda: _dispatched(container))
    assert _for(jobs, "push.order_status", a) == []
    assert _for(jobs, "push.order_status", b) == ["preparing", "ready"]
    assert "sms.order_ready" not in jobs.names  # texts are off by default

    await set_config(container, ready_sms_enabled=True)
    c = (await place(client, without, order_body((m.chai, 1)))).json()["data"]
    await _move(client, kitchen, c, "preparing", "ready")
    await eventually(lambda: _dispatched(container))
    assert _for(jobs, "sms.order_ready", c) == ["sent"]
    assert _for(jobs, "push.order_status", c) == []


@pytest.mark.parametrize("batch", ["one order", "several orders"])
async def test_the_batch_knows_which_orders_have_a_device_to_push_to(client, container, batch):
    """One order's batch asks by the direct path, several by one IN query: the same answer."""
    from canteen.notifications.reactions import _orders_with_devices

    m = await seed_menu(container)
    without = await login_customer(client, container, "+919876500011")
    with_device = await login_customer(client, container, "+919876500012")
    await register_device(client, with_device)
    a = (await place(client, without, order_body((m.dosa, 1)))).json()["data"]
    b = (await place(client, with_device, order_body((m.dosa, 1)))).json()["data"]
    ids = {o["id"]: uuid.UUID(o["id"]) for o in (a, b)}

    def events(*orders: dict[str, Any]) -> list[Event]:
        return [Event(order_id=ids[o["id"]], status="preparing") for o in orders]

    async with container.sessionmaker() as s, s.begin():
        if batch == "one order":
            assert await _orders_with_devices(s, events(a, a)) == set()
            assert await _orders_with_devices(s, events(b)) == {ids[b["id"]]}
        else:
            assert await _orders_with_devices(s, events(a, b, b)) == {ids[b["id"]]}
            assert await _orders_with_devices(s, [Event(order_id=None)]) == set()


async def test_the_push_sweep_skips_a_customer_who_had_no_device_then(client, container, clock):
    """A device registered after the status changed gets no late push for it from the
    sweep (the reaction enqueued none, and the sweep must not make up for it)."""
    from canteen.notifications.tasks import redrive_pushes

    m = await seed_menu(container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    me = await login_customer(client, container)
    order = (await place(client, me, order_body((m.dosa, 1)))).json()["data"]
    await _move(client, kitchen, order, "preparing")
    await eventually(lambda: _dispatched(container))
    token = await register_device(client, me)
    clock.advance(61)
    await redrive_pushes(container)
    async with container.sessionmaker() as s:
        sent = list(
            await s.scalars(
                select(DevOutboxMessage).where(
                    DevOutboxMessage.channel == "push", DevOutboxMessage.to == token
                )
            )
        )
    assert sent == []
