"""Demo data for the embedded default and `canteen seed-demo`.

Idempotent: running it twice changes nothing. Later domains add their demo rows here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.security import hash_password_async
from canteen.menu.demo import seed_menu
from canteen.users.models import Role, User

log = logging.getLogger("canteen.demo")


@dataclass(frozen=True)
class DemoAccount:
    phone: str
    name: str
    role: Role
    password: str | None


DEMO_ACCOUNTS = (
    DemoAccount("+919000000001", "Meera (manager)", Role.admin, "canteen-admin"),
    DemoAccount("+919000000002", "Ravi (kitchen)", Role.kitchen, "canteen-kitchen"),
    DemoAccount("+919000000003", "Arjun (delivery)", Role.delivery, "canteen-delivery"),
    DemoAccount("+919000000010", "Priya (student)", Role.customer, None),
)


async def is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(User))


async def seed_demo(session: AsyncSession) -> None:
    missing = [
        a
        for a in DEMO_ACCOUNTS
        if not await session.scalar(select(User).where(User.phone == a.phone))
    ]

    async def password_hash(account: DemoAccount) -> str | None:
        return await hash_password_async(account.password) if account.password else None

    # argon2 releases the GIL: hashing the accounts side by side shortens a first start.
    hashes = await asyncio.gather(*(password_hash(a) for a in missing))
    for account, hashed in zip(missing, hashes, strict=True):
        session.add(
            User(phone=account.phone, name=account.name, role=account.role, password_hash=hashed)
        )
    await session.flush()
    await seed_menu(session)
    log.info("demo data loaded")
