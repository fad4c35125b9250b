"""Option groups on a dish (issue 16): half/full plate, filling, sugar level, add-ons.

A group is single choice (pick one) or multiple choice, required or optional, with the
fewest and most selections it takes; each option has a price delta in paise (0 allowed)
and its own availability. The groups are stored on the item row (`menu_items.option_groups`,
JSON): they are read with the item wherever the item is read, so the public menu's cached
bytes and order placement's catalogue carry them without another query, and every change
to them is an item edit (the menu version moves, the live menu stream hears it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from canteen.core.errors import field_error
from canteen.core.strict import Bool, JsonInt

MAX_GROUPS = 10
MAX_OPTIONS = 20
MAX_DELTA = 5_000_00  # ₹5,000: an option dearer than that is a typo

OptionName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Delta = Annotated[int, Field(ge=0, le=MAX_DELTA, description="Integer paise added"), JsonInt]
Selections = Annotated[int, Field(ge=0, le=MAX_OPTIONS), JsonInt]


class GroupKind(StrEnum):
    single = "single"
    multiple = "multiple"


class OptionIn(BaseModel):
    id: uuid.UUID | None = Field(default=None, description="Keep an existing option's id")
    name: OptionName
    price_delta: Delta = 0
    is_available: Bool = True


class OptionGroupIn(BaseModel):
    id: uuid.UUID | None = Field(default=None, description="Keep an existing group's id")
    name: OptionName
    kind: GroupKind = GroupKind.single
    required: Bool = False
    min_select: Selections | None = Field(
        default=None, description="Default: 1 if required, else 0"
    )
    max_select: Selections | None = Field(
        default=None, description="Default: 1 for single choice, else the number of options"
    )
    options: list[OptionIn] = Field(min_length=1, max_length=MAX_OPTIONS)


OptionGroups = Annotated[list[OptionGroupIn], Field(max_length=MAX_GROUPS)]


class OptionOut(BaseModel):
    id: uuid.UUID
    name: str
    price_delta: int = Field(description="Integer paise added to the dish's price")
    is_available: bool


class OptionGroupOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: GroupKind
    required: bool
    min_select: int
    max_select: int
    options: list[OptionOut]


def normalise_groups(
    groups: list[OptionGroupIn], problems: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The stored form (OptionGroupOut's JSON) of what an admin sent, ids kept or made;
    every inconsistency is added to `problems` (the caller's VALIDATION_ERROR details)."""
    out: list[dict[str, Any]] = []
    seen_ids: set[uuid.UUID] = set()
    group_names: set[str] = set()
    for g_index, group in enumerate(groups):
        field = f"option_groups.{g_index}"
        low, high = _selections(field, group, group_names, problems)
        option_names: set[str] = set()
        options: list[dict[str, Any]] = []
        for o_index, option in enumerate(group.options):
            if option.name.casefold() in option_names:
                problems.append(
                    field_error(
                        f"{field}.options.{o_index}.name",
                        "duplicate",
                        f"Two options in {group.name!r} are called {option.name!r}",
                    )
                )
            option_names.add(option.name.casefold())
            option_id = option.id or uuid.uuid4()
            if option_id in seen_ids:
                problems.append(
                    field_error(f"{field}.options.{o_index}.id", "duplicate", "Ids must differ")
                )
            seen_ids.add(option_id)
            options.append(
                {
                    "id": str(option_id),
                    "name": option.name,
                    "price_delta": option.price_delta,
                    "is_available": option.is_available,
                }
            )
        group_id = group.id or uuid.uuid4()
        if group_id in seen_ids:
            problems.append(field_error(f"{field}.id", "duplicate", "Ids must differ"))
        seen_ids.add(group_id)
        out.append(
            {
                "id": str(group_id),
                "name": group.name,
                "kind": group.kind.value,
                "required": group.required,
                "min_select": low,
                "max_select": high,
                "options": options,
            }
        )
    return out


def _selections(
    field: str, group: OptionGroupIn, names: set[str], problems: list[dict[str, Any]]
) -> tuple[int, int]:
    """The group's min and max selections (defaults filled in), its problems noted."""
    count = len(group.options)
    single = group.kind == GroupKind.single
    low = group.min_select if group.min_select is not None else int(group.required)
    high = group.max_select if group.max_select is not None else (1 if single else count)
    if group.name.casefold() in names:
        problems.append(
            field_error(f"{field}.name", "duplicate", f"Two groups are called {group.name!r}")
        )
    names.add(group.name.casefold())
    if single and high != 1:
        problems.append(
            field_error(
                f"{field}.max_select", "single_choice", "A single-choice group takes one option"
            )
        )
    if group.required and low < 1:
        problems.append(
            field_error(
                f"{field}.min_select",
                "required_group",
                "A required group needs min_select of 1 or more",
            )
        )
    if not group.required and low > 0:
        problems.append(
            field_error(
                f"{field}.min_select", "optional_group", "An optional group has min_select 0"
            )
        )
    if low > high:
        problems.append(
            field_error(f"{field}.min_select", "above_max", "min_select is above max_select")
        )
    if high > count:
        problems.append(
            field_error(
                f"{field}.max_select",
                "above_options",
                f"max_select is above the {count} option(s) in the group",
            )
        )
    return low, high


# ---- what order placement reads (canteen.menu.catalogue) -----------------------------


@dataclass(frozen=True, slots=True)
class OptionInfo:
    id: uuid.UUID
    group_id: uuid.UUID
    name: str
    price_delta: int
    is_available: bool


@dataclass(frozen=True, slots=True)
class GroupInfo:
    id: uuid.UUID
    name: str
    required: bool
    min_select: int
    max_select: int
    option_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True, slots=True)
class ItemOptions:
    groups: tuple[GroupInfo, ...] = ()
    options: dict[uuid.UUID, OptionInfo] | None = None

    def get(self, option_id: uuid.UUID) -> OptionInfo | None:
        return (self.options or {}).get(option_id)


NO_OPTIONS = ItemOptions()


def item_options(stored: list[dict[str, Any]] | None) -> ItemOptions:
    """Placement's view of an item's stored groups."""
    if not stored:
        return NO_OPTIONS
    groups: list[GroupInfo] = []
    options: dict[uuid.UUID, OptionInfo] = {}
    for group in stored:
        group_id = uuid.UUID(group["id"])
        ids: list[uuid.UUID] = []
        for option in group["options"]:
            info = OptionInfo(
                id=uuid.UUID(option["id"]),
                group_id=group_id,
                name=option["name"],
                price_delta=int(option["price_delta"]),
                is_available=bool(option["is_available"]),
            )
            options[info.id] = info
            ids.append(info.id)
        groups.append(
            GroupInfo(
                id=group_id,
                name=group["name"],
                required=bool(group["required"]),
                min_select=int(group["min_select"]),
                max_select=int(group["max_select"]),
                option_ids=tuple(ids),
            )
        )
    return ItemOptions(groups=tuple(groups), options=options)
