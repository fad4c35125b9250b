"""The signed-in account's profile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from canteen_client.models import User

if TYPE_CHECKING:
    from canteen_client.client import CanteenClient

_UNSET: Any = object()


class UsersAPI:
    def __init__(self, client: CanteenClient) -> None:
        self._client = client

    async def me(self) -> User:
        return User.from_json(await self._client.data("GET", "/users/me"))

    async def update_me(self, *, name: str | None = _UNSET, email: str | None = _UNSET) -> User:
        """Change the name and/or e-mail; fields left out keep their values."""
        body = {k: v for k, v in (("name", name), ("email", email)) if v is not _UNSET}
        return User.from_json(await self._client.data("PATCH", "/users/me", json=body))
