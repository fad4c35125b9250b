"""Routes → screens, in plain Python (tested without Flet).

| route                  | screen                       | stack under it        |
|------------------------|------------------------------|-----------------------|
| /login                 | OTP sign-in                  |                       |
| /menu (and /)          | menu by slot and category    |                       |
| /item/{id}             | item details                 | /menu                 |
| /cart                  | cart                         | /menu                 |
| /checkout              | checkout                     | /menu, /cart          |
| /orders                | order history                | /menu                 |
| /orders/{id}           | tracking                     | /menu, /orders        |
| /payment-return?...    | verifies a UPI result, then → /orders/{id}        |
| /closed                | full-screen "closed"         | /menu                 |
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

PUBLIC = frozenset({"login"})
_UUID = r"[0-9a-fA-F-]{36}"
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("menu", re.compile(r"^/(menu)?$")),
    ("login", re.compile(r"^/login$")),
    ("item", re.compile(rf"^/item/(?P<id>{_UUID})$")),
    ("cart", re.compile(r"^/cart$")),
    ("checkout", re.compile(r"^/checkout$")),
    ("orders", re.compile(r"^/orders$")),
    ("tracking", re.compile(rf"^/orders/(?P<id>{_UUID})$")),
    ("payment_return", re.compile(r"^/payment-return$")),
    ("closed", re.compile(r"^/closed$")),
]
PARENTS: dict[str, list[str]] = {
    "item": ["/menu"],
    "cart": ["/menu"],
    "checkout": ["/menu", "/cart"],
    "orders": ["/menu"],
    "tracking": ["/menu", "/orders"],
    "closed": ["/menu"],
}


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)

    @property
    def public(self) -> bool:
        return self.name in PUBLIC

    @property
    def id(self) -> str:
        return self.params["id"]


def parse_route(route: str | None) -> Route:
    """Parse a route; anything unknown is the menu."""
    parts = urlsplit(route or "/")
    path = parts.path.rstrip("/") or "/"
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for name, pattern in PATTERNS:
        match = pattern.match(path)
        if match:
            canonical = "/menu" if name == "menu" else path
            return Route(name, canonical, match.groupdict(), query)
    return Route("menu", "/menu", {}, query)


def stack_for(route: Route) -> list[Route]:
    """The screens under `route` (what the back button goes through), then the route."""
    return [parse_route(p) for p in PARENTS.get(route.name, [])] + [route]


def guard(route: Route, signed_in: bool) -> str | None:
    """Where to go instead: signed out → /login; signed in on /login → /menu."""
    if not signed_in and not route.public:
        return "/login"
    if signed_in and route.name == "login":
        return "/menu"
    return None
