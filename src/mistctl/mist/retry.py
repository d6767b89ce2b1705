"""When the client tries again, and how long it waits first."""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

#: Answers that say "the server had a moment": retried on idempotent calls.
RETRY_STATUSES = frozenset({500, 502, 503, 504})

#: Failures raised before a single byte of the request left: safe to retry for any method.
NOTHING_SENT: tuple[type[httpx.RequestError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Limits on retries and waits; the defaults suit a 5000-calls-an-hour cloud."""

    max_attempts: int = 4  # tries per call on transport errors and 5xx (429s are counted apart)
    backoff_base: float = 0.5  # seconds before the first retry; doubles each time
    backoff_cap: float = 20.0  # longest backoff between two tries
    max_rate_retries: int = 3  # 429 answers tolerated per call
    max_rate_wait: float = 3900.0  # longest wait for a window reset or a Retry-After before giving up
    rate_jitter: float = 1.0  # up to this many seconds added after a reset, so waiters do not stampede

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Exponential backoff with equal jitter: half fixed, half random, capped."""
        delay: float = min(self.backoff_cap, self.backoff_base * 2.0 ** max(0, failures - 1))
        return delay / 2 + rng.uniform(0, delay / 2)

    def after_reset(self, wait: float, rng: random.Random) -> float:
        """The wait for a window reset, plus jitter so that it lands after the reset."""
        return min(wait, self.max_rate_wait) + rng.uniform(0, self.rate_jitter)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
