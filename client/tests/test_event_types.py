"""The SDK's event types are the backend's (issue 15): one list of wire names."""

from __future__ import annotations

import canteen_client
from canteen.events.types import EventType as BackendEventType
from canteen_client.events import EventType


def test_the_sdk_names_every_backend_event_type_and_no_other():
    assert [(e.name, e.value) for e in EventType] == [(e.name, e.value) for e in BackendEventType]


def test_members_compare_equal_to_their_wire_names():
    assert EventType.order_status_changed == "order.status_changed"
    assert EventType("menu.updated") is EventType.menu_updated


def test_the_package_exports_it():
    assert canteen_client.EventType is EventType
    assert "EventType" in canteen_client.__all__
