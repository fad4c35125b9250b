"""Profile and push device tokens (design §9.1, §13.3 "FCM token registration")."""

from __future__ import annotations

from sqlalchemy import select

from canteen.users.models import DeviceToken as DeviceTokenRow

from .sdk_harness import API, sign_in


async def tokens_in_db(container) -> list[tuple[str, str]]:
    async with container.sessionmaker() as s:
        rows = await s.scalars(select(DeviceTokenRow))
        return sorted((r.token, r.platform) for r in rows)


async def test_profile(api, raw, container):
    await sign_in(api, raw, container)
    me = await api.users.update_me(name="Asha")
    assert me.name == "Asha" and me.email is None
    me = await api.users.update_me(email="asha@example.com")
    assert me.name == "Asha" and me.email == "asha@example.com"


async def test_device_token_registration(api, wire, raw, container):
    await sign_in(api, raw, container)
    registered = await api.devices.register("fcm-token-0123456789")
    assert registered.token == "fcm-token-0123456789" and registered.platform == "android"
    (call,) = wire.calls("POST", f"{API}/users/device-token")
    assert call.headers["Authorization"].startswith("Bearer ")
    assert await tokens_in_db(container) == [("fcm-token-0123456789", "android")]

    # Registering again (the app does on every start) is an upsert.
    await api.devices.register("fcm-token-0123456789", platform="ios")
    assert await tokens_in_db(container) == [("fcm-token-0123456789", "ios")]

    await api.devices.unregister("fcm-token-0123456789")
    assert await tokens_in_db(container) == []
    await api.devices.unregister("fcm-token-0123456789")  # idempotent
