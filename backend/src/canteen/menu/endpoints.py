"""Public menu reads (ETag + 304) and the apps' settings.

The three menu routes are the hottest in the API (every app start and refresh), so they
take the raw request: no FastAPI parameter parsing, no dependency thread hop; the menu
cache parses each distinct query string once (`canteen.menu.queries`) and answers from
pre-encoded bytes. Their parameters are documented in OpenAPI from the same models.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from canteen.core.container import Container
from canteen.core.deps import ContainerDep, Session
from canteen.core.responses import Envelope, ListEnvelope
from canteen.menu.config import public_config as build_public_config
from canteen.menu.queries import ItemParams, PageParams, openapi_parameters
from canteen.menu.schemas import CategoryOut, MenuItemOut, PublicConfig

router = APIRouter(tags=["menu"])
config_router = APIRouter(tags=["config"])

_CACHED: dict[int | str, dict[str, Any]] = {
    200: {"description": "The resource, with an `ETag` header (`Cache-Control: no-cache`)"},
    304: {"description": "Not modified: the `If-None-Match` tag is still current (no body)"},
}


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


@router.get(
    "/menu/categories",
    response_model=ListEnvelope[CategoryOut],
    responses=_CACHED,
    openapi_extra=openapi_parameters(PageParams),
)
async def menu_categories(request: Request) -> Response:
    """Active categories in display order."""
    return await _container(request).menu_cache.categories(
        request.scope["query_string"], request.headers.get("if-none-match")
    )


@router.get(
    "/menu/items",
    response_model=ListEnvelope[MenuItemOut],
    responses=_CACHED,
    openapi_extra=openapi_parameters(ItemParams),
)
async def menu_items(request: Request) -> Response:
    """Items of active categories in display order, sold-out ones included (`sold_out`)."""
    return await _container(request).menu_cache.items(
        request.scope["query_string"], request.headers.get("if-none-match")
    )


@router.get(
    "/menu/items/{item_id}",
    response_model=Envelope[MenuItemOut],
    responses=_CACHED,
    openapi_extra=openapi_parameters(None),
)
async def menu_item(item_id: uuid.UUID, request: Request) -> Response:
    return await _container(request).menu_cache.item(item_id, request.headers.get("if-none-match"))


@config_router.get("/config/public", response_model=Envelope[PublicConfig])
async def public_config(c: ContainerDep, db: Session) -> Envelope[PublicConfig]:
    """What the apps need: switches, fees, payment key id, slots and the current slot."""
    data = await build_public_config(
        db,
        now=c.clock.now(),
        timezone=c.settings.timezone,
        razorpay_key_id=c.settings.razorpay_key_id,
    )
    return Envelope(data=data)
