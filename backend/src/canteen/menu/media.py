"""Serving locally stored media (the embedded default) under `settings.media_base_url`."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from canteen.settings import Settings

# Same as the S3 objects' header (canteen.storage.s3, not imported here: boto3 is heavy).
CACHE_CONTROL = "public, max-age=31536000, immutable"


class ImmutableFiles(StaticFiles):
    """Image keys carry a hash of their content, so a file never changes: cache forever."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = CACHE_CONTROL
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Menu photos are public. The student app in a browser (Flutter web) fetches them
        # with XHR from its own origin, which needs CORS; without it every tile stays blank.
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response


def media_mount_path(settings: Settings) -> str:
    return urlsplit(settings.media_base_url).path.rstrip("/") or "/media"


def mount_local_media(app: FastAPI, settings: Settings) -> None:
    root = settings.data_dir / "media"
    root.mkdir(parents=True, exist_ok=True)
    app.mount(media_mount_path(settings), ImmutableFiles(directory=root), name="media")
