"""Who is asking: the current user from the bearer token, and role checks.

Here in users, beside the account it loads, so that users' own routes need nothing of auth
(auth signs in with the account: auth -> users, never back). The token is checked by the
container's token service (a core port). The other domains import these names from
`canteen.auth.deps`, which re-exports them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from canteen.core.container import Container
from canteen.core.deps import Session, container_of
from canteen.core.direct import DirectStatement, Loaded
from canteen.core.errors import InsufficientRole, InvalidToken
from canteen.core.openapi import needs_bearer_token
from canteen.users.models import Role, User

# The bearer header, or None (then `_bearer_token` answers 401 in the contract's words).
bearer_scheme = HTTPBearer(auto_error=False)
# Every authenticated request reads its account, usually as the request's first statement:
# compiled once and sent straight to the driver, the row made the session's `User` as a
# query would load it (issue 20: 230 µs of CPU against the ORM query's 320).
_USERS = User.__table__
# Outside the transaction: it begins with the request's next statement, if any.
_ACCOUNT = DirectStatement(
    select(_USERS).where(_USERS.c.id == bindparam("user_id")), in_transaction=False
)
_LOADED_USER = Loaded(User, _ACCOUNT.columns)
# A sign-in's account, by the number its code was sent to.
_ACCOUNT_BY_PHONE = DirectStatement(
    select(_USERS).where(_USERS.c.phone == bindparam("phone")), in_transaction=False
)


async def load_account(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The session's `User` for an id (the one it holds, else read by the direct path)."""
    rows = await _ACCOUNT.rows(session, {"user_id": user_id})
    return await _LOADED_USER.attach(session, rows[0]) if rows else None


async def load_account_by_phone(session: AsyncSession, phone: str) -> User | None:
    """The session's `User` with this phone (E.164), as `load_account`."""
    rows = await _ACCOUNT_BY_PHONE.rows(session, {"phone": phone})
    return await _LOADED_USER.attach(session, rows[0]) if rows else None


def usable_account(user: User | None) -> User:
    """The account a valid token names, if it may still act: a deactivated account's
    tokens stop at once."""
    if user is None:
        raise InvalidToken("The account no longer exists")
    if not user.is_active:
        raise InvalidToken("This account has been deactivated")
    return user


async def authenticate(container: Container, session: AsyncSession, token: str) -> User:
    """Check the JWT, then the account."""
    claims = container.tokens.decode_access(token, container.clock.now())
    return usable_account(await load_account(session, claims.user_id))


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise InvalidToken("Authentication is required")
    return credentials.credentials


@needs_bearer_token
async def get_current_user(
    conn: HTTPConnection,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> User:
    return await authenticate(container_of(conn), session, _bearer_token(credentials))


CurrentUser = Annotated[User, Depends(get_current_user)]


def token_user_id(c: Container, credentials: HTTPAuthorizationCredentials | None) -> uuid.UUID:
    """The account a valid bearer token names (401 `INVALID_TOKEN` otherwise)."""
    return c.tokens.decode_access(_bearer_token(credentials), c.clock.now()).user_id


@needs_bearer_token
async def get_token_user_id(
    conn: HTTPConnection,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> uuid.UUID:
    """The account a valid token names, its row not yet read: for a route whose own first
    read takes the account along (placing an order, issue 20: a round trip fewer). That
    route must pass the row it read through `usable_account` before acting on it."""
    return token_user_id(container_of(conn), credentials)


TokenUserId = Annotated[uuid.UUID, Depends(get_token_user_id)]


def require_roles(*roles: Role) -> Callable[[User], Coroutine[Any, Any, User]]:
    allowed = {r.value for r in roles}

    async def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise InsufficientRole(details=[{"required_roles": sorted(allowed), "role": user.role}])
        return user

    return check


Customer = Annotated[User, Depends(require_roles(Role.customer))]
KitchenStaff = Annotated[User, Depends(require_roles(Role.kitchen, Role.admin))]
Admin = Annotated[User, Depends(require_roles(Role.admin))]
DeliveryStaff = Annotated[User, Depends(require_roles(Role.delivery, Role.kitchen, Role.admin))]
