"""The event types of the live channels: the `type` of a message on the order socket and
the kitchen stream, and the SSE `event:` name on the students' menu stream.

The same values as the backend's one list (`canteen.events.types.EventType`; the SDK's
tests check they agree). A `StrEnum`, so a member equals its wire name:
`message["type"] == EventType.order_status_changed`.

Messages that are not events have their own names: `order.snapshot` (the socket's first
message), `ping`, `hello` and `menu.resync`.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    order_created = "order.created"
    order_status_changed = "order.status_changed"
    order_payment_updated = "order.payment_updated"
    order_assigned = "order.assigned"
    order_recalled = "order.recalled"  # a mistaken kitchen move put back (status restored)
    order_line_done = "order.line_done"  # a station marked a line done (or undone)
    order_eta_changed = "order.eta_changed"  # the estimated ready time moved (data.to)
    menu_updated = "menu.updated"
    config_updated = "config.updated"
