"""A route answered by a lean handler first, by FastAPI's own handler when it declines.

FastAPI solves a route's dependencies anew on every request (a walk of the dependency
tree, the parameters of each, a `Request` per solve) and validates the answer against
the response model it was just built from. For placing an order that machinery cost about
as much CPU as the order's own statements (issue 20; docs/performance.md, step 54). A lean
handler does what the route's dependencies would, in the same order, calling the same
functions, and nothing more. It takes the requests it is sure of; for anything else (a
body that is not JSON, a value the model refuses, no bearer header) it raises `Declined`,
and FastAPI's handler answers with the same `Request` (its body already read and cached).
So the route, its OpenAPI entry, its errors and every middleware stay as they are.

A dependency added to the route later would be skipped by its lean handler: the route
refuses to be built with one the handler does not name (`covers`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

LeanHandler = Callable[[Request], Awaitable[Response]]


class Declined(Exception):
    """Raised by a lean handler, before it has changed anything: FastAPI's handler answers."""


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def lean_route(
    lean: LeanHandler, *, covers: set[Callable[..., Any]], enabled: Callable[[Request], bool]
) -> type[APIRoute]:
    """A route class for one endpoint: `lean` answers when `enabled(request)`, and it does
    what each dependency in `covers` does."""

    class LeanRoute(APIRoute):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            unknown = [call for call in _calls(self.dependant) if call not in covers]
            if unknown:
                raise TypeError(
                    f"{self.path}: its lean handler does not do what {unknown} do; "
                    "add them to it (and to `covers`), or drop the lean route"
                )

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            full = super().get_route_handler()

            async def handler(request: Request) -> Response:
                if enabled(request):
                    try:
                        return await lean(request)
                    except Declined:
                        pass
                return await full(request)

            return handler

    return LeanRoute
