"""Who is asking: the current user and the role checks every domain's routes depend on.

Defined in `canteen.users.deps` (beside the account, so users' routes need nothing of auth
and the two packages form no import circle); this is the name the domains import.
"""

from __future__ import annotations

from canteen.users.deps import (
    Admin,
    CurrentUser,
    Customer,
    DeliveryStaff,
    KitchenStaff,
    TokenUserId,
    authenticate,
    bearer_scheme,
    get_current_user,
    get_token_user_id,
    load_account,
    require_roles,
    token_user_id,
    usable_account,
)

__all__ = [
    "Admin",
    "CurrentUser",
    "Customer",
    "DeliveryStaff",
    "KitchenStaff",
    "TokenUserId",
    "authenticate",
    "bearer_scheme",
    "get_current_user",
    "get_token_user_id",
    "load_account",
    "require_roles",
    "token_user_id",
    "usable_account",
]
