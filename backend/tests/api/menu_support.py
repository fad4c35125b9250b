"""Shared set-up for the menu, image and config tests: a small menu built through the
admin API, clock helpers for the canteen's time zone, images and "nothing written"
snapshots."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from PIL import Image
from sqlalchemy import func, select

from canteen.core.clock import ManualClock, process_now
from canteen.events.models import Event
from canteen.menu.models import CanteenConfig, Category, MenuItem, TimeSlot, menu_item_slots
from conftest import API, bearer, login_staff

IST = ZoneInfo("Asia/Kolkata")
ADMIN_PHONE = "+919000000101"
KITCHEN_PHONE = "+919000000102"
DELIVERY_PHONE = "+919000000103"

SLOTS = (
    ("breakfast", "Breakfast", "07:30", "10:30"),
    ("lunch", "Lunch", "12:00", "15:00"),
    ("snacks", "Evening snacks", "16:00", "18:30"),
    ("dinner", "Dinner", "19:30", "22:00"),
)


def set_local_time(clock: ManualClock, hhmm: str, day_offset: int = 0) -> datetime:
    """Move the clock to `hhmm` today (canteen time) and return that moment in UTC."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    today = process_now().astimezone(IST).date() + timedelta(days=day_offset)
    target = datetime(today.year, today.month, today.day, hour, minute, tzinfo=IST)
    clock.set_to(target.astimezone(UTC))
    return target.astimezone(UTC)


def bearer_now(container: Any, session: dict[str, Any]) -> dict[str, str]:
    """A bearer header minted at the (possibly moved) test clock's time."""
    user = session["user"]
    token = container.tokens.encode_access(
        uuid.UUID(user["id"]), user["role"], container.clock.now(), 3600
    )
    return {"Authorization": f"Bearer {token}"}


async def admin_session(client: httpx.AsyncClient, container: Any) -> dict[str, Any]:
    return await login_staff(client, container, "admin", ADMIN_PHONE)


async def kitchen_session(client: httpx.AsyncClient, container: Any) -> dict[str, Any]:
    return await login_staff(client, container, "kitchen", KITCHEN_PHONE)


async def delivery_session(client: httpx.AsyncClient, container: Any) -> dict[str, Any]:
    return await login_staff(client, container, "delivery", DELIVERY_PHONE)


async def post(client: httpx.AsyncClient, s: dict[str, Any], path: str, body: Any) -> Any:
    r = await client.post(f"{API}{path}", json=body, headers=bearer(s))
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def make_slots(client: httpx.AsyncClient, s: dict[str, Any]) -> dict[str, str]:
    ids = {}
    for n, (code, label, start, end) in enumerate(SLOTS):
        data = await post(
            client,
            s,
            "/admin/time-slots",
            {"code": code, "label": label, "start_time": start, "end_time": end, "sort_order": n},
        )
        ids[code] = data["id"]
    return ids


async def make_category(
    client: httpx.AsyncClient, s: dict[str, Any], name: str, sort_order: int = 0, **kw: Any
) -> str:
    data = await post(
        client, s, "/admin/menu/categories", {"name": name, "sort_order": sort_order, **kw}
    )
    return str(data["id"])


def item_body(category_id: str, name: str, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category_id": category_id,
        "name": name,
        "description": f"{name}, freshly made",
        "price": 5000,
        "diet": "veg",
        "allergens": [],
        "time_slots": ["lunch"],
        "prep_minutes": 10,
    }
    body.update(kw)
    return body


async def make_item(
    client: httpx.AsyncClient, s: dict[str, Any], category_id: str, name: str, **kw: Any
) -> dict[str, Any]:
    data: dict[str, Any] = await post(
        client, s, "/admin/menu/items", item_body(category_id, name, **kw)
    )
    return data


@dataclass
class SmallMenu:
    admin: dict[str, Any]
    slots: dict[str, str]
    south: str  # category ids
    drinks: str
    hidden_category: str
    dosa: dict[str, Any]  # items as the API returned them
    idli: dict[str, Any]
    biryani: dict[str, Any]
    omelette: dict[str, Any]
    chai: dict[str, Any]
    lassi: dict[str, Any]
    secret: dict[str, Any]  # in the inactive category


async def small_menu(client: httpx.AsyncClient, container: Any) -> SmallMenu:
    admin = await admin_session(client, container)
    slots = await make_slots(client, admin)
    drinks = await make_category(client, admin, "Beverages", 2)
    south = await make_category(client, admin, "South Indian", 1)
    hidden = await make_category(client, admin, "Staff specials", 3, is_active=False)
    dosa = await make_item(
        client, admin, south, "Masala Dosa", price=6000, allergens=["dairy"],
        time_slots=["breakfast", "lunch", "dinner"], sort_order=1,
    )  # fmt: skip
    idli = await make_item(
        client, admin, south, "Idli Sambar", price=4000, time_slots=["breakfast"], sort_order=0
    )
    biryani = await make_item(
        client, admin, south, "Chicken Biryani", price=16000, diet="non_veg",
        allergens=["nuts", "dairy"], time_slots=["lunch", "dinner"], daily_stock=20, sort_order=2,
    )  # fmt: skip
    omelette = await make_item(
        client, admin, south, "Bread Omelette", price=5000, diet="egg",
        allergens=["gluten", "egg"], time_slots=["breakfast", "snacks"], sort_order=3,
    )  # fmt: skip
    chai = await make_item(
        client, admin, drinks, "Masala Chai", price=1500, allergens=["dairy"],
        time_slots=["breakfast", "lunch", "snacks", "dinner"],
    )  # fmt: skip
    lassi = await make_item(
        client, admin, drinks, "Sweet Lassi", price=4500, allergens=["dairy"],
        time_slots=["lunch", "snacks"], is_available=False, sort_order=1,
    )  # fmt: skip
    secret = await make_item(client, admin, hidden, "Staff Thali", price=9000)
    return SmallMenu(
        admin, slots, south, drinks, hidden, dosa, idli, biryani, omelette, chai, lassi, secret
    )


async def counts(container: Any) -> dict[str, Any]:
    """Everything a menu or settings change could write, to check that nothing was."""
    async with container.sessionmaker() as s:
        out: dict[str, Any] = {}
        for name, model in (
            ("categories", Category),
            ("items", MenuItem),
            ("slots", TimeSlot),
            ("events", Event),
        ):
            out[name] = int(await s.scalar(select(func.count()).select_from(model)) or 0)
        out["item_slots"] = int(
            await s.scalar(select(func.count()).select_from(menu_item_slots)) or 0
        )
        config = await s.get(CanteenConfig, 1)
        out["config"] = (
            None
            if config is None
            else {
                c.name: getattr(config, c.name)
                for c in CanteenConfig.__table__.columns
                if c.name != "updated_at"
            }
        )
        rows = await s.scalars(select(MenuItem).order_by(MenuItem.id))
        out["item_rows"] = [
            {c.name: getattr(i, c.name) for c in MenuItem.__table__.columns} for i in rows
        ]
        slot_rows = await s.scalars(select(TimeSlot).order_by(TimeSlot.id))
        out["slot_rows"] = [
            {c.name: getattr(t, c.name) for c in TimeSlot.__table__.columns} for t in slot_rows
        ]
        cat_rows = await s.scalars(select(Category).order_by(Category.id))
        out["category_rows"] = [
            {c.name: getattr(t, c.name) for c in Category.__table__.columns} for t in cat_rows
        ]
        return out


async def events(container: Any, type_: str | None = None) -> list[Event]:
    async with container.sessionmaker() as s:
        query = select(Event).order_by(Event.seq)
        if type_:
            query = query.where(Event.type == type_)
        return list(await s.scalars(query))


async def etag(client: httpx.AsyncClient, path: str, **params: Any) -> str:
    r = await client.get(f"{API}{path}", params=params)
    assert r.status_code == 200, r.text
    return str(r.headers["etag"])


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (1200, 900), mode: str = "RGB") -> bytes:
    color: Any = (200, 120, 40) if mode == "RGB" else (200, 120, 40, 128)
    img = Image.new(mode, size, color)
    for x in range(0, size[0], 37):  # some structure, so encoders do real work
        for y in range(0, size[1], 41):
            img.putpixel((x, y), (10, 200, 90) if mode == "RGB" else (10, 200, 90, 255))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def media_files(settings: Any, item_id: str | uuid.UUID | None = None) -> list[str]:
    root = Path(settings.data_dir) / "media" / "menu"
    if item_id is not None:
        root = root / str(item_id)
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
