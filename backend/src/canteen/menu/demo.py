"""The demo canteen's menu: a typical Indian campus canteen, four serving windows.

Prices are in paise. Loaded by `canteen seed-demo` and on the embedded first start;
idempotent (slots by code, categories by name, items by name within their category).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.events.service import record_event
from canteen.events.types import EventType
from canteen.menu.config import bump_menu_version, get_config
from canteen.menu.models import Allergen, Category, MenuItem, TimeSlot

log = logging.getLogger("canteen.demo")

B, L, S, D = "breakfast", "lunch", "snacks", "dinner"
ALL_DAY = (B, L, S, D)
_ALLERGEN_ORDER = [a.value for a in Allergen]

DEMO_SLOTS = (
    (B, "Breakfast", time(7, 30), time(10, 30)),
    (L, "Lunch", time(12, 0), time(15, 0)),
    (S, "Evening snacks", time(16, 0), time(18, 30)),
    (D, "Dinner", time(19, 30), time(22, 0)),
)


@dataclass(frozen=True)
class DemoItem:
    name: str
    description: str
    price: int  # paise
    diet: str
    slots: tuple[str, ...]
    allergens: tuple[str, ...] = ()
    prep_minutes: int = 10
    daily_stock: int | None = None


@dataclass(frozen=True)
class DemoCategory:
    name: str
    items: tuple[DemoItem, ...] = field(default_factory=tuple)


DEMO_MENU = (
    DemoCategory(
        "South Indian",
        (
            DemoItem(
                "Idli Sambar (2 pcs)",
                "Steamed rice cakes, sambar and coconut chutney",
                4000,
                "veg",
                (B,),
                (),
                5,
            ),
            DemoItem(
                "Medu Vada (2 pcs)",
                "Crisp urad dal vadas with sambar and chutney",
                4500,
                "veg",
                (B, S),
                (),
                8,
            ),
            DemoItem(
                "Masala Dosa",
                "Rice crêpe with spiced potato, sambar and chutneys",
                6000,
                "veg",
                (B, L, D),
                ("dairy",),
                12,
            ),
            DemoItem(
                "Plain Dosa",
                "Crisp rice crêpe with sambar and chutneys",
                4500,
                "veg",
                (B, D),
                (),
                10,
            ),
            DemoItem(
                "Rava Upma",
                "Semolina cooked with vegetables, curry leaves and cashew",
                3500,
                "veg",
                (B,),
                ("gluten", "nuts"),
                8,
            ),
            DemoItem(
                "Pongal",
                "Rice and moong dal with pepper, ghee and cashew",
                4500,
                "veg",
                (B,),
                ("dairy", "nuts"),
                8,
            ),
            DemoItem(
                "Uttapam",
                "Thick rice pancake topped with onion, tomato and chilli",
                5500,
                "veg",
                (B, D),
                (),
                12,
            ),
        ),
    ),
    DemoCategory(
        "Breakfast Specials",
        (
            DemoItem(
                "Poha",
                "Flattened rice with onion, peanuts and lemon",
                3000,
                "veg",
                (B,),
                ("peanuts",),
                6,
            ),
            DemoItem(
                "Aloo Paratha",
                "Two stuffed wheat parathas with curd and pickle",
                6000,
                "veg",
                (B, D),
                ("gluten", "dairy"),
                12,
            ),
            DemoItem(
                "Puri Bhaji", "Four puris with potato bhaji", 5500, "veg", (B,), ("gluten",), 10
            ),
            DemoItem(
                "Bread Omelette",
                "Two-egg masala omelette in toasted bread",
                5000,
                "egg",
                (B, S),
                ("gluten", "egg", "dairy"),
                8,
            ),
            DemoItem("Boiled Eggs (2 pcs)", "With salt and pepper", 3000, "egg", (B,), ("egg",), 3),
            DemoItem(
                "Sprouts Chaat",
                "Moong sprouts with onion, tomato and lemon",
                4000,
                "veg",
                (B, S),
                (),
                5,
            ),
        ),
    ),
    DemoCategory(
        "Meals & Thalis",
        (
            DemoItem(
                "Veg Thali",
                "Two sabzis, dal, rice, three rotis, salad and sweet",
                11000,
                "veg",
                (L, D),
                ("gluten", "dairy"),
                10,
                80,
            ),
            DemoItem(
                "Non-Veg Thali",
                "Chicken curry, dal, rice, three rotis, salad",
                15000,
                "non_veg",
                (L, D),
                ("gluten", "dairy"),
                12,
                50,
            ),
            DemoItem(
                "Rajma Chawal", "Kidney bean curry with steamed rice", 8000, "veg", (L,), (), 8
            ),
            DemoItem(
                "Chole Bhature",
                "Spiced chickpeas with two bhaturas, onion and pickle",
                9000,
                "veg",
                (L,),
                ("gluten", "dairy"),
                12,
            ),
            DemoItem(
                "Curd Rice",
                "Tempered curd rice with pomegranate",
                6000,
                "veg",
                (L, D),
                ("dairy",),
                5,
            ),
            DemoItem(
                "Sambar Rice",
                "Rice with lentil-vegetable sambar and papad",
                6500,
                "veg",
                (L,),
                (),
                6,
            ),
        ),
    ),
    DemoCategory(
        "Rice & Biryani",
        (
            DemoItem(
                "Veg Biryani",
                "Dum biryani with vegetables and raita",
                11000,
                "veg",
                (L, D),
                ("dairy", "nuts"),
                15,
            ),
            DemoItem(
                "Egg Biryani",
                "Dum biryani with two masala eggs and raita",
                12500,
                "egg",
                (L, D),
                ("egg", "dairy"),
                15,
            ),
            DemoItem(
                "Chicken Biryani",
                "Hyderabadi dum biryani with salan and raita",
                16000,
                "non_veg",
                (L, D),
                ("dairy", "nuts"),
                15,
                60,
            ),
            DemoItem(
                "Jeera Rice with Dal Tadka",
                "Cumin rice and yellow dal tadka",
                8500,
                "veg",
                (L, D),
                ("dairy",),
                8,
            ),
            DemoItem(
                "Paneer Butter Masala with 2 Rotis",
                "Cottage cheese in a tomato-butter gravy",
                13000,
                "veg",
                (L, D),
                ("dairy", "gluten", "nuts"),
                12,
            ),
            DemoItem(
                "Butter Chicken with 2 Rotis",
                "Tandoori chicken in a makhani gravy",
                16500,
                "non_veg",
                (L, D),
                ("dairy", "gluten", "nuts"),
                15,
            ),
        ),
    ),
    DemoCategory(
        "Indo-Chinese",
        (
            DemoItem(
                "Veg Hakka Noodles",
                "Wok-tossed noodles with vegetables",
                8000,
                "veg",
                (L, S, D),
                ("gluten", "soy"),
                10,
            ),
            DemoItem(
                "Chicken Fried Rice",
                "Wok-fried rice with chicken and egg",
                11000,
                "non_veg",
                (L, D),
                ("soy", "egg"),
                12,
            ),
            DemoItem(
                "Gobi Manchurian",
                "Crisp cauliflower in a spicy Manchurian sauce",
                9000,
                "veg",
                (L, S, D),
                ("gluten", "soy"),
                12,
            ),
            DemoItem(
                "Chilli Chicken (dry)",
                "Indo-Chinese chilli chicken with peppers",
                13000,
                "non_veg",
                (S, D),
                ("soy", "gluten", "egg"),
                15,
            ),
            DemoItem(
                "Egg Fried Rice",
                "Wok-fried rice with scrambled egg and spring onion",
                9000,
                "egg",
                (L, D),
                ("egg", "soy"),
                10,
            ),
        ),
    ),
    DemoCategory(
        "Snacks & Chaat",
        (
            DemoItem(
                "Samosa (2 pcs)",
                "Potato-pea samosas with green and tamarind chutney",
                3000,
                "veg",
                (S,),
                ("gluten",),
                3,
                120,
            ),
            DemoItem(
                "Vada Pav",
                "Mumbai-style potato fritter in a pav with chutneys",
                3000,
                "veg",
                (S,),
                ("gluten",),
                4,
            ),
            DemoItem(
                "Pav Bhaji",
                "Buttery mashed-vegetable bhaji with two pavs",
                8000,
                "veg",
                (S, D),
                ("gluten", "dairy"),
                10,
            ),
            DemoItem(
                "Pani Puri (6 pcs)",
                "Crisp puris with spiced water and potato",
                4000,
                "veg",
                (S,),
                ("gluten",),
                4,
            ),
            DemoItem(
                "Bhel Puri",
                "Puffed rice, sev, chutneys and onion",
                4000,
                "veg",
                (S,),
                ("gluten", "peanuts"),
                4,
            ),
            DemoItem(
                "Veg Puff",
                "Flaky pastry with spiced vegetables",
                2500,
                "veg",
                (B, S),
                ("gluten", "dairy"),
                2,
                60,
            ),
            DemoItem(
                "Egg Puff",
                "Flaky pastry with a masala egg",
                3000,
                "egg",
                (B, S),
                ("gluten", "dairy", "egg"),
                2,
                40,
            ),
            DemoItem(
                "Chicken Roll",
                "Spiced chicken and onion in a rumali roti",
                9000,
                "non_veg",
                (S, D),
                ("gluten", "egg"),
                10,
            ),
            DemoItem(
                "Masala Maggi",
                "Instant noodles with vegetables and masala",
                5000,
                "veg",
                (S, D),
                ("gluten",),
                6,
            ),
        ),
    ),
    DemoCategory(
        "Beverages",
        (
            DemoItem(
                "Masala Chai",
                "Milk tea with ginger and cardamom",
                1500,
                "veg",
                ALL_DAY,
                ("dairy",),
                3,
            ),
            DemoItem(
                "Filter Coffee", "South Indian filter coffee", 2000, "veg", ALL_DAY, ("dairy",), 3
            ),
            DemoItem(
                "Cold Coffee", "Blended with ice cream", 6000, "veg", (L, S, D), ("dairy",), 4
            ),
            DemoItem("Sweet Lassi", "Thick Punjabi curd drink", 4500, "veg", (L, S), ("dairy",), 3),
            DemoItem(
                "Masala Chaas",
                "Spiced buttermilk with roasted cumin",
                2500,
                "veg",
                (L, S),
                ("dairy",),
                2,
            ),
            DemoItem("Fresh Lime Soda", "Sweet, salted or mixed", 3500, "veg", ALL_DAY, (), 3),
        ),
    ),
    DemoCategory(
        "Desserts",
        (
            DemoItem(
                "Gulab Jamun (2 pcs)",
                "Warm milk-solid dumplings in syrup",
                4000,
                "veg",
                (L, S, D),
                ("dairy", "gluten"),
                2,
                100,
            ),
            DemoItem(
                "Rasmalai (2 pcs)",
                "Chenna discs in saffron milk with pistachio",
                6000,
                "veg",
                (L, D),
                ("dairy", "nuts"),
                2,
                40,
            ),
            DemoItem(
                "Kulfi", "Malai kulfi on a stick", 4000, "veg", (L, S, D), ("dairy", "nuts"), 1
            ),
            DemoItem(
                "Fruit Custard",
                "Vanilla custard with seasonal fruit",
                5000,
                "veg",
                (L, D),
                ("dairy",),
                2,
            ),
            DemoItem(
                "Sesame Chikki",
                "Jaggery and toasted sesame brittle",
                2000,
                "veg",
                ALL_DAY,
                ("sesame",),
                1,
            ),
        ),
    ),
)


async def seed_menu(session: AsyncSession) -> int:
    """Add whatever part of the demo menu is missing; returns how many rows were added."""
    await get_config(session)
    added = 0
    slots = {s.code: s for s in await session.scalars(select(TimeSlot))}
    for order, (code, label, start, end) in enumerate(DEMO_SLOTS):
        if code not in slots:
            slots[code] = TimeSlot(
                id=uuid.uuid4(),
                code=code,
                label=label,
                start_time=start,
                end_time=end,
                is_active=True,
                sort_order=order,
            )
            session.add(slots[code])
            added += 1
    categories = {c.name: c for c in await session.scalars(select(Category))}
    existing = {(i.category_id, i.name) for i in await session.scalars(select(MenuItem))}
    for c_order, demo in enumerate(DEMO_MENU):
        category = categories.get(demo.name)
        if category is None:
            category = Category(id=uuid.uuid4(), name=demo.name, sort_order=c_order, is_active=True)
            session.add(category)
            added += 1
        for i_order, d in enumerate(demo.items):
            if (category.id, d.name) in existing:
                continue
            session.add(
                MenuItem(
                    id=uuid.uuid4(),
                    category_id=category.id,
                    name=d.name,
                    description=d.description,
                    price=d.price,
                    diet=d.diet,
                    allergens=sorted(d.allergens, key=_ALLERGEN_ORDER.index),
                    image_keys=[],
                    is_available=True,
                    prep_minutes=d.prep_minutes,
                    daily_stock=d.daily_stock,
                    stock_remaining=d.daily_stock,
                    sort_order=i_order,
                    slots=[slots[code] for code in d.slots],
                )
            )
            added += 1
    if added:
        await session.flush()
        version = await bump_menu_version(session)
        await record_event(
            session,
            EventType.menu_updated,
            data={
                "entity": "menu",
                "action": "demo_loaded",
                "rows": added,
                "menu_version": version,
            },
        )
        log.info("demo menu loaded (%d rows)", added)
    return added
