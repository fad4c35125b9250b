"""Find a route without a parameter in its path by one dictionary look-up (issue 20).

Starlette tries the app's routes in order until one matches: `POST /api/v1/orders`, the
busiest write, was the 45th, so every order paid for 45 regular-expression matches. This
table answers the same as that scan, only sooner: it holds a route for (method, path) only
when the route's path has no parameter and no route before it could take that path (a
path parameter, a mount). Anything not in it, and any request the table's route does not
take whole, goes through Starlette's scan as before, so 404s, 405s and redirects are
unchanged. Routes added after the table is made come after its routes in the scan too, so
they cannot take a path from them.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Match, Router, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send


def _static_table(routes: list[BaseRoute]) -> dict[tuple[str, str], BaseRoute]:
    table: dict[tuple[str, str], BaseRoute] = {}
    # (pattern, methods) of the routes so far; methods None: any (a mount).
    earlier: list[tuple[Any, set[str] | None]] = []
    for route in routes:
        path: str | None = getattr(route, "path", None)
        methods: set[str] | None = getattr(route, "methods", None)
        if path is not None and methods and not getattr(route, "param_convertors", None):
            for method in methods:
                # An earlier route that takes this path for this method wins the scan.
                taken = any(
                    pattern.match(path) and (allowed is None or method in allowed)
                    for pattern, allowed in earlier
                )
                if not taken:
                    table[(method, path)] = route
        regex = getattr(route, "path_regex", None)
        if regex is not None and not isinstance(route, WebSocketRoute):
            earlier.append((regex, methods))
    return table


class StaticRoutesFirst:
    """The router's entry point, with the static routes looked up before the scan."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.scan: ASGIApp = router.middleware_stack
        self.table = _static_table(list(router.routes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Under a root path the scan strips it first; the table leaves those to the scan.
        if scope["type"] == "http" and not scope.get("root_path"):
            route = self.table.get((scope["method"], scope["path"]))
            if route is not None:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self.router)
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await self.scan(scope, receive, send)


def look_up_static_routes_first(router: Router) -> None:
    router.middleware_stack = StaticRoutesFirst(router)
