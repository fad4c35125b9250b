"""The menu: items of one time slot, filtered on the device by category, diet,
allergens and a search text (the same rules as the API's own filters, so switching
a filter costs no request and works offline from the last menu fetched)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from canteen_client import (
    CanteenClient,
    CanteenError,
    Category,
    KitchenWindows,
    MenuItem,
    PublicConfig,
    TimeSlot,
)

DIETS = {"veg": "Veg", "egg": "Egg", "non_veg": "Non-veg"}
ALLERGENS = ("gluten", "dairy", "nuts", "peanuts", "soy", "egg", "shellfish", "sesame")


@dataclass(frozen=True)
class MenuFilters:
    category_id: str | None = None
    diets: frozenset[str] = field(default_factory=frozenset)
    allergen_free: frozenset[str] = field(default_factory=frozenset)
    query: str = ""

    @property
    def active(self) -> bool:
        return bool(self.category_id or self.diets or self.allergen_free or self.query.strip())

    def toggle_diet(self, diet: str) -> MenuFilters:
        return replace(self, diets=self.diets ^ {diet})

    def toggle_allergen(self, allergen: str) -> MenuFilters:
        return replace(self, allergen_free=self.allergen_free ^ {allergen})


def matches(item: MenuItem, f: MenuFilters) -> bool:
    if f.category_id and item.category_id != f.category_id:
        return False
    if f.diets and item.diet not in f.diets:
        return False
    if f.allergen_free and f.allergen_free.intersection(item.allergens):
        return False
    query = f.query.strip().casefold()
    return not (query and query not in item.name.casefold())


def filter_items(items: Iterable[MenuItem], f: MenuFilters) -> list[MenuItem]:
    return [i for i in items if matches(i, f)]


def group_by_category(
    items: Iterable[MenuItem], categories: Sequence[Category]
) -> list[tuple[Category, list[MenuItem]]]:
    groups: dict[str, list[MenuItem]] = {}
    for item in items:
        groups.setdefault(item.category_id, []).append(item)
    return [(c, groups[c.id]) for c in categories if c.id in groups]


def local_now(config: PublicConfig | None, now: datetime | None = None) -> datetime:
    """`now` (default: the clock) in the canteen's time zone."""
    moment = now or datetime.now().astimezone()
    if config is not None and config.timezone:
        try:
            return moment.astimezone(ZoneInfo(config.timezone))
        except (KeyError, ValueError):  # unknown zone or no tz database on the device
            pass
    return moment.astimezone()


def busy_notice(windows: KitchenWindows | None, config: PublicConfig | None) -> str | None:
    """ "Kitchen busy: ready around 13:25" when the kitchen's earliest window with room is
    later than a typical order could be ready (the server says which: kitchen_busy)."""
    if windows is None or not windows.kitchen_busy:
        return None
    if windows.ready_around is None:
        return "Kitchen full for this slot: no window has room"
    local = local_now(config, windows.ready_around)
    return f"Kitchen busy: ready around {local:%H:%M}"


async def load_windows(
    api: CanteenClient, slot: str | None, cart: Iterable[tuple[str, int]] = ()
) -> KitchenWindows | None:
    """The slot's kitchen windows (those the cart fits in, when given); None when the
    server cannot say (older servers, offline): the app then shows no notice and places
    for the earliest window."""
    if slot is None:
        return None
    try:
        return await api.menu.windows(slot, cart)
    except CanteenError:
        return None


def choose_slot(config: PublicConfig, now: datetime | None = None) -> TimeSlot | None:
    """The slot being served; outside serving hours the next one today, else the first."""
    slots = config.time_slots
    if not slots:
        return None
    if config.current_time_slot:
        for slot in slots:
            if slot.code == config.current_time_slot:
                return slot
    local: time = local_now(config, now).time().replace(tzinfo=None)
    upcoming = sorted((s for s in slots if s.start_time > local), key=lambda s: s.start_time)
    return upcoming[0] if upcoming else min(slots, key=lambda s: s.start_time)


def slot_label(slot: TimeSlot, current: str | None) -> str:
    hours = f"{slot.start_time:%H:%M} to {slot.end_time:%H:%M}"
    return f"{slot.label} ({'now' if slot.code == current else hours})"


def media_url(api_base: str, url: str | None) -> str | None:
    """Image URLs: the API's local media are relative to its host; S3 URLs are absolute."""
    if not url:
        return None
    if urlsplit(url).scheme:
        return url
    parts = urlsplit(api_base)
    return urljoin(f"{parts.scheme}://{parts.netloc}/", url)


class MenuState:
    def __init__(self, api: CanteenClient) -> None:
        self.api = api
        self.categories: list[Category] = []
        self.items: list[MenuItem] = []
        self.slot: str | None = None
        self.filters = MenuFilters()
        self.loaded = False
        self.windows: KitchenWindows | None = None  # the kitchen's room in the slot

    async def load(self, slot: str | None) -> None:
        """Fetch the categories and the slot's items (ETag-cached by the SDK)."""
        self.categories = await self.api.menu.categories()
        self.items = await self.api.menu.items(time_slot=slot) if slot else []
        self.slot = slot
        self.loaded = True
        self.windows = await load_windows(self.api, slot)

    def mark_sold_out(self, item_id: str) -> bool:
        """A live message said the dish sold out: show it before the re-read lands."""
        for n, item in enumerate(self.items):
            if item.id == item_id and not item.sold_out:
                self.items[n] = replace(item, sold_out=True, stock_remaining=0)
                return True
        return False

    async def item(self, item_id: str) -> MenuItem:
        for item in self.items:
            if item.id == item_id:
                return item
        return await self.api.menu.item(item_id)

    @property
    def visible(self) -> list[MenuItem]:
        return filter_items(self.items, self.filters)

    def grouped(self) -> list[tuple[Category, list[MenuItem]]]:
        return group_by_category(self.visible, self.categories)

    def names(self) -> dict[str, str]:
        return {i.id: i.name for i in self.items}
