"""Serving the kitchen portal (the React app built into `portal/dist`) at `/portal/`.

- Files that exist under the build are served as they are; Vite's hashed `assets/` are
  cached for a year, everything else (index.html above all) is revalidated every time, so
  a new build reaches the tablets on their next load.
- Any other path under `/portal/` is a route of the app (`/portal/orders/…`, a bookmark, a
  reload): it gets `index.html` and the app's router takes over.
- A missing file under `/portal/assets/` (an old tab asking for a chunk of a previous build,
  a typo) is a 404 in the API's error contract, never index.html in place of JavaScript.
- Without a build the routes answer 503 in the error contract, naming the setup command.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from canteen.core.errors import error_response

log = logging.getLogger("canteen.portal")

PREFIX = "/portal"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The portal talks only to this origin; images may come from the storage's own host (S3).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: blob: https:",
        "style-src 'self'",
        "script-src 'self'",
        "connect-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def mount_portal(app: FastAPI, dist: Path) -> None:
    """Serve the built portal in `dist` at `/portal/`, deep links included."""
    root = dist.resolve()
    index = root / "index.html"
    if not index.is_file():
        log.warning("portal build not found at %s; /portal/ answers 503", root)

    def _missing_build() -> Response:
        return error_response(
            503,
            "SERVICE_UNAVAILABLE",
            "The kitchen portal has not been built; run portal/scripts/setup.sh",
            [{"path": str(root)}],
        )

    def _index() -> Response:
        if not index.is_file():
            return _missing_build()
        response = FileResponse(index, media_type="text/html; charset=utf-8")
        response.headers["Cache-Control"] = REVALIDATE
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers.update(_SECURITY_HEADERS)
        return response

    def _file(relative: str) -> Path | None:
        """The file under the build that `relative` names, or None (never outside it)."""
        if not relative or "\x00" in relative:
            return None
        candidate = (root / relative).resolve()
        if candidate != root and root not in candidate.parents:
            return None
        return candidate if candidate.is_file() else None

    @app.api_route(PREFIX, methods=["GET", "HEAD"], include_in_schema=False)
    async def portal_root() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    @app.api_route(PREFIX + "/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def portal(path: str, request: Request) -> Response:
        found = _file(path)
        if found is not None and found != index:
            response = FileResponse(found)
            response.headers["Cache-Control"] = (
                IMMUTABLE if path.startswith("assets/") else REVALIDATE
            )
            response.headers.update(_SECURITY_HEADERS)
            return response
        last = path.rsplit("/", 1)[-1]
        if path.startswith("assets/") or (found is None and "." in last and path != ""):
            # A file that is not there: say so, in the error contract, not with the app.
            return error_response(
                404,
                "NOT_FOUND",
                f"No such file: {request.url.path}",
                [{"path": request.url.path}],
            )
        return _index()
