"""Who a Mist call is made for: the site, kind and key in scope, carried by a context variable.

The client's call hook reads it to count calls per site and to write the audit log, so the
workflow never threads that bookkeeping through every call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class CallScope:
    site: str | None
    kind: str
    key: str


_scope: ContextVar[CallScope | None] = ContextVar("mistctl_call_scope", default=None)


def current_scope() -> CallScope | None:
    """The scope of the call being made, if the workflow set one."""
    return _scope.get()


@contextmanager
def call_scope(site: str | None, kind: str, key: str) -> Iterator[CallScope]:
    """Attribute the Mist calls made inside the block to a site, kind and key."""
    scope = CallScope(site, kind, key)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)
