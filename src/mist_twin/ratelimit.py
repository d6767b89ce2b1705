"""Mist's per-token rate limit: a fixed window aligned on multiples of its length since the epoch.

With the default 3600 s window the count resets at the top of each clock hour, as on Mist. Every
`/api/` call counts, the refused ones included; the `/__twin/` control endpoints never do.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from mist_twin.auth import token_from_scope_headers
from mist_twin.config import Knobs
from mist_twin.errors import send_answer


@dataclass(frozen=True)
class Usage:
    """A token's standing in the current window (what `GET /self/usage` answers)."""

    requests: int
    request_limit: int
    seconds: float  # until the window resets

    @property
    def exceeded(self) -> bool:
        """True once the count has gone past the limit."""
        return self.requests > self.request_limit


class RateLimiter:
    """Counts calls per token in the current fixed window."""

    def __init__(self, knobs: Knobs, clock: Callable[[], float]) -> None:
        self.knobs = knobs
        self.clock = clock
        self._window_start = -1.0
        self._counts: dict[str, int] = {}
        self.rejected = 0

    def _roll(self) -> float:
        now = self.clock()
        window = self.knobs.rate_window
        start = math.floor(now / window) * window
        if start != self._window_start:
            self._window_start = start
            self._counts = {}
        return start + window - now

    def hit(self, token: str) -> Usage:
        """Count one call by `token` and return its usage after it."""
        seconds = self._roll()
        self._counts[token] = self._counts.get(token, 0) + 1
        return Usage(self._counts[token], self.knobs.rate_limit, seconds)

    def usage(self, token: str) -> Usage:
        """The token's usage without counting a call."""
        seconds = self._roll()
        return Usage(self._counts.get(token, 0), self.knobs.rate_limit, seconds)

    def reset(self) -> None:
        """Forget every count (twin reset)."""
        self._counts = {}
        self.rejected = 0


def too_many_detail(limit: int) -> str:
    """Mist's 429 wording, with the limit in force."""
    reached = f"reached the {limit} API Calls per hour threshold"
    return f"Too Many Request. The API Token used for the request {reached}"


class RateLimitMiddleware:
    """Counts each `/api/` call against its token and answers 429 (with Retry-After) past the limit."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        token = token_from_scope_headers(scope["headers"])
        if token is None:  # no token, no bucket: the answer is a 401 anyway
            await self.app(scope, receive, send)
            return
        usage = self.limiter.hit(token)
        if not usage.exceeded:
            await self.app(scope, receive, send)
            return
        self.limiter.rejected += 1
        body = json.dumps({"detail": too_many_detail(usage.request_limit)}).encode()
        retry_after = str(max(1, math.ceil(usage.seconds)))
        await send_answer(send, 429, body, extra=((b"retry-after", retry_after.encode()),))
