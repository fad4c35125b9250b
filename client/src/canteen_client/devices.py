"""Push device tokens (design §9.1): register on start and on every token refresh."""

from __future__ import annotations

from typing import TYPE_CHECKING

from canteen_client.models import DeviceToken

if TYPE_CHECKING:
    from canteen_client.client import CanteenClient


class DevicesAPI:
    def __init__(self, client: CanteenClient) -> None:
        self._client = client

    async def register(self, token: str, platform: str | None = None) -> DeviceToken:
        """Upsert the FCM token for this account (a token another account had moves here).
        An upsert is idempotent, so it is retried like a read. `platform` defaults to the
        client's (`android`, `ios` or `web`)."""
        data = await self._client.data(
            "POST",
            "/users/device-token",
            json={"token": token, "platform": platform or self._client.platform},
            retry=True,
        )
        return DeviceToken.from_json(data)

    async def unregister(self, token: str) -> None:
        """Stop pushes to this token (on sign-out). Idempotent, so retried."""
        await self._client.request(
            "DELETE", "/users/device-token", json={"token": token}, retry=True
        )
