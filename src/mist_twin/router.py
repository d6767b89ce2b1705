"""Starlette's router, choosing by path segments which routes to try instead of trying them all.

Starlette matches a call against every route in turn (a regular expression each) until one fits: for
the twin's hundred-odd routes that was a fifth of a call's CPU. `IndexedRouter` keeps the routes in a
tree of path segments (a literal segment, or `{param}` for any non-empty one), so a call is matched
only against the routes its path could fit, in their original order and by the same `Route.matches`.
Whatever the tree cannot place (a `{x:path}` parameter, a mount) is tried for every call. The answer
is therefore Starlette's: the first full match wins, a method mismatch is a 405, no match a 404, and a
trailing slash still redirects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

_PARAM = re.compile(r"^\{[a-zA-Z_][a-zA-Z0-9_]*(:(str|int|float|uuid))?\}$")


@dataclass
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    param: _Node | None = None
    ends: list[int] = field(default_factory=list)  # positions of the routes whose path ends here


def _segments(route: BaseRoute) -> list[str] | None:
    """The path's segments when the tree can place the route (single-segment parameters only)."""
    if not isinstance(route, Route) or not route.path.startswith("/"):
        return None
    parts = route.path.split("/")[1:]
    for part in parts:
        if "{" in part and not _PARAM.match(part):
            return None  # `{x:path}` or a parameter inside a segment: tried for every call
    return parts


class _Index:
    """The tree of a router's routes, and the routes it cannot place."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.root = _Node()
        self.always: list[int] = []
        for position, route in enumerate(routes):
            parts = _segments(route)
            if parts is None:
                self.always.append(position)
                continue
            node = self.root
            for part in parts:
                if part.startswith("{"):
                    node.param = node.param or _Node()
                    node = node.param
                else:
                    node = node.literal.setdefault(part, _Node())
            node.ends.append(position)

    def candidates(self, path: str) -> list[int]:
        """Positions of the routes that may match `path`, in order (a superset of those that do)."""
        found = list(self.always)
        nodes = [self.root]
        for part in path.split("/")[1:]:
            following: list[_Node] = []
            for node in nodes:
                exact = node.literal.get(part)
                if exact is not None:
                    following.append(exact)
                if node.param is not None and part:
                    following.append(node.param)
            if not following:
                break
            nodes = following
        else:
            for node in nodes:
                found.extend(node.ends)
        if len(found) > 1:
            found.sort()
        return found


class IndexedRouter(Router):
    """`Router` that tries only the routes a call's path could fit (same answers, less CPU)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._index: _Index | None = None
        self._indexed: tuple[int, int] = (0, 0)

    def _current_index(self) -> _Index:
        """The tree, rebuilt when the route list was replaced or grew (routes are added, not edited)."""
        key = (id(self.routes), len(self.routes))
        if self._index is None or key != self._indexed:
            self._index, self._indexed = _Index(self.routes), key
        return self._index

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self
        routes = self.routes
        partial: BaseRoute | None = None
        partial_scope: Scope = {}
        for position in self._current_index().candidates(get_route_path(scope)):
            route = routes[position]
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope
        if partial is not None:  # a method mismatch: the route answers 405
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        await super().app(scope, receive, send)  # no match: Starlette's own search, redirect and 404
