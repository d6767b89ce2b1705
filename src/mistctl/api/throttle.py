"""Bounded memory for the service's edges: a TTL + LRU cache, and per-client throttles for credentials.

    TtlCache(max_items, ttl)      token identities (`GET /self` answers), keyed by a hash of the token
    Throttle(limit, window)       at most `limit` events per key per fixed window; keys kept LRU-bounded
    AuthGuard                     failed credentials per client (401s) and tokens looked up with Mist
                                  per client; past either limit: 429 with Retry-After, Mist not called

Everything is per service process (replicas each keep their own): the limits bound what one process
spends, not a global count. The client is the peer address uvicorn reports (behind a reverse proxy on
the same host, the `X-Forwarded-For` it sets; see uvicorn's `--forwarded-allow-ips`).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from mistctl.api.errors import ApiError

V = TypeVar("V")
MAX_KEYS = 10_000  # clients (or tokens) remembered at once; the least recently seen go first
FAILURES, FAILURE_WINDOW = 10, 60.0  # failed credentials per client per window
LOOKUPS, LOOKUP_WINDOW = 20, 60.0  # new Mist tokens validated with GET /self per client per window


class TtlCache(Generic[V]):
    """At most `max_items` values, each for `ttl` seconds; the least recently used are dropped first."""

    def __init__(self, max_items: int, ttl: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.max_items, self.ttl, self.monotonic = max_items, ttl, monotonic
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        if self.monotonic() - found[0] >= self.ttl:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return found[1]

    def put(self, key: str, value: V) -> None:
        self._items[key] = (self.monotonic(), value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)


class Throttle:
    """At most `limit` events per key in a fixed window of `window` seconds."""

    def __init__(self, limit: int, window: float, *, max_keys: int = MAX_KEYS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.monotonic = limit, window, monotonic
        self._counts: TtlCache[list[float]] = TtlCache(max_keys, window, monotonic)

    def wait(self, key: str) -> float:
        """Seconds until `key` may have another event (0: now)."""
        found = self._counts.get(key)
        if found is None or found[1] < self.limit:
            return 0.0
        return max(0.0, found[0] + self.window - self.monotonic())

    def hit(self, key: str) -> None:
        """Count one event for `key`."""
        found = self._counts.get(key)
        if found is None:
            self._counts.put(key, [self.monotonic(), 1.0])
        else:
            found[1] += 1  # the window keeps its start (the cache entry expires with it)


@dataclass
class AuthGuard:
    """Failed credentials and new-token look-ups, counted per client (see the module docstring)."""

    failures: Throttle = field(default_factory=lambda: Throttle(FAILURES, FAILURE_WINDOW))
    lookups: Throttle = field(default_factory=lambda: Throttle(LOOKUPS, LOOKUP_WINDOW))
    refused: int = 0  # answers 429 so far (for tests and the log)

    def check(self, client: str) -> None:
        """429 when the client failed too often lately."""
        self._refuse(self.failures.wait(client), "too many failed credentials from this client")

    def failed(self, client: str) -> None:
        self.failures.hit(client)

    def lookup(self, client: str) -> None:
        """Count a token the service must validate with Mist; 429 past the client's share."""
        self._refuse(self.lookups.wait(client), "too many new Mist tokens from this client")
        self.lookups.hit(client)

    def _refuse(self, wait: float, why: str) -> None:
        if wait > 0:
            self.refused += 1
            seconds = max(1, math.ceil(wait))
            raise ApiError(429, f"{why}: try again in {seconds} s", headers={"Retry-After": str(seconds)})
