"""Display tokens: what a counter TV signs in with.

Only a hash of the token is stored (like a password): a copy of the database cannot
open a display, and the token is shown once, when the admin creates it. A revoked
token stays as a row (who made it, when it was revoked) rather than being deleted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from canteen.core.db import Base, IdMixin, UTCDateTime, utcnow


class DisplayToken(IdMixin, Base):
    __tablename__ = "display_tokens"

    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, to tell tokens apart in the admin list.
    hint: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
