"""The menu domain's errors: one class per code (design §11.2)."""

from __future__ import annotations

from canteen.core.errors import Conflict


class CategoryNotEmpty(Conflict):
    """`details` says how many items the category still holds."""

    code = "CATEGORY_NOT_EMPTY"
    message = "The category still has items; move or delete them first"


class TimeSlotCodeTaken(Conflict):
    code = "TIME_SLOT_CODE_TAKEN"
    message = "A time slot with this code already exists"


class TimeSlotInUse(Conflict):
    """`details` lists (up to 50 of) the menu items sold in the slot."""

    code = "TIME_SLOT_IN_USE"
    message = "Menu items are sold in this slot; take them out of it first"
