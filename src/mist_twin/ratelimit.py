"""Mist's rate limit: a fixed window aligned on multiples of its length since the epoch.

With the default 3600 s window the count resets at the top of each clock hour, as on Mist. Calls are
counted per budget: an org token's own, or its admin's for a user token (every token of one admin
shares it). Every `/api/` call counts, the refused ones included; the `/__twin/` control endpoints
never do. Two knobs model what no source settles: whether a 429 carries `Retry-After`
(`rate_retry_after`) and whether `GET /self/usage` still answers once the budget is spent
(`usage_when_limited`).
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


USAGE_PATH = "/api/v1/self/usage"


class RateLimiter:
    """Counts calls per token in the current fixed window."""

    def __init__(self, knobs: Knobs, clock: Callable[[], float], key_of: Callable[[str], str] = str) -> None:
        self.knobs = knobs
        self.clock = clock
        self.key_of = key_of  # a token -> the budget its calls count against
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
        key = self.key_of(token)
        self._counts[key] = self._counts.get(key, 0) + 1
        return Usage(self._counts[key], self.knobs.rate_limit, seconds)

    def usage(self, token: str) -> Usage:
        """The token's usage without counting a call."""
        seconds = self._roll()
        return Usage(self._counts.get(self.key_of(token), 0), self.knobs.rate_limit, seconds)

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
        knobs = self.limiter.knobs
        if not usage.exceeded or (scope["path"] == USAGE_PATH and knobs.usage_when_limited):
            await self.app(scope, receive, send)
            return
        self.limiter.rejected += 1
        body = json.dumps({"detail": too_many_detail(usage.request_limit)}).encode()
        retry_after = str(max(1, math.ceil(usage.seconds)))
        extra = ((b"retry-after", retry_after.encode()),) if knobs.rate_retry_after else ()
        await send_answer(send, 429, body, extra=extra)
