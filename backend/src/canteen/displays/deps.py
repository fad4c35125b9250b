"""Which display is asking: its token from `Authorization: Bearer …` or `?token=`
(an EventSource cannot send headers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query

from canteen.core.deps import Session
from canteen.core.openapi import needs_bearer_token
from canteen.displays.models import DisplayToken
from canteen.displays.service import authenticate_display


@needs_bearer_token
async def current_display(
    db: Session,
    token: Annotated[str | None, Query(description="The display token")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> DisplayToken:
    raw = token or (authorization or "").removeprefix("Bearer ").strip()
    return await authenticate_display(db, raw)


CurrentDisplay = Annotated[DisplayToken, Depends(current_display)]
