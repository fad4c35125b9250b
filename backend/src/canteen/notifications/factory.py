from __future__ import annotations

from typing import TYPE_CHECKING

from canteen.notifications.push import PushProvider
from canteen.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from canteen.core.container import Container


def build_push_provider(settings: Settings, container: Container) -> PushProvider:
    kind = settings.push_provider
    if kind == "dev":
        from canteen.notifications.dev import DevPushProvider

        return DevPushProvider(container.sessionmaker)
    if kind == "fcm":
        from canteen.notifications.fcm import FcmPushProvider

        if not settings.fcm_credentials_file:
            raise ConfigurationError(
                "CANTEEN_FCM_CREDENTIALS_FILE (a service-account JSON file) is required "
                "for CANTEEN_PUSH_PROVIDER=fcm"
            )
        try:
            return FcmPushProvider(
                settings.fcm_credentials_file,
                settings.fcm_project_id,
                base_url=settings.fcm_base_url,
            )
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"CANTEEN_FCM_CREDENTIALS_FILE / CANTEEN_FCM_PROJECT_ID are not usable: {exc}"
            ) from exc
    raise ConfigurationError(f"CANTEEN_PUSH_PROVIDER={kind!r} is not one of dev, fcm")
