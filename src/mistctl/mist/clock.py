"""Time as a port: the client and the budget read the time and sleep only through a `Clock`.

Tests hand in a `ManualClock`, so retries, backoff and rate windows run without waiting.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock seconds since the epoch (rate windows align to it) and an async sleep."""

    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait this many seconds."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Wait on the event loop."""
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when slept on or advanced: sleeping jumps straight to the deadline.

    Concurrent sleepers that start at the same moment wake at their own deadlines, not one after the
    other, because each sleep yields once before moving the time forward.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        """The current fake time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the time forward without sleeping."""
        self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        """Record the sleep and jump to its deadline."""
        self.sleeps.append(seconds)
        deadline = self._now + max(0.0, seconds)
        await asyncio.sleep(0)
        self._now = max(self._now, deadline)

    @property
    def slept(self) -> float:
        """Total seconds slept."""
        return sum(self.sleeps)
