"""The kitchen domain's errors: one class per code (the wire shape is core.errors')."""

from __future__ import annotations

from canteen.core.errors import Conflict


class SlotFull(Conflict):
    code = "SLOT_FULL"
    message = "The kitchen is full for this time; choose one of the next windows with room"
