"""The event types: one enum for the event log, the outbox reactions, the hub and streams.

The values are the wire names clients see in every socket and stream message (`type`),
so they never change; a new type is added here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    order_created = "order.created"
    order_status_changed = "order.status_changed"
    order_payment_updated = "order.payment_updated"
    order_assigned = "order.assigned"
    # A mistaken move (ready, handover, staff cancel) put back by the kitchen (issue 17).
    order_recalled = "order.recalled"
    # A station marked one line of an order done, or undone (issue 17, stations).
    order_line_done = "order.line_done"
    # The kitchen's estimate of an order's ready time moved (issue 16, honest ready times).
    order_eta_changed = "order.eta_changed"
    menu_updated = "menu.updated"
    config_updated = "config.updated"


# Plain strings (the column's and the messages' values) for lookups and SQL `IN`.
EVENT_TYPES: frozenset[str] = frozenset(t.value for t in EventType)
# What students' open menus, carts and checkouts must hear about (realtime.menu_stream).
MENU_EVENT_TYPES: frozenset[str] = frozenset(
    {EventType.menu_updated.value, EventType.config_updated.value}
)
