"""The per-token call budget: Mist allows a fixed number of calls per token per window (5000 an hour).

`CallBudget` is the port. The client reserves one call before every request it sends and waits for
the window's reset instead of sending when the budget says the window is spent, so Mist never has
to answer 429. The key is a token fingerprint (`token_fingerprint`), never the token itself, so a
shared store (`RedisCallBudget`) can hold it. Windows are aligned to multiples of the window
length since the epoch, like Mist's top of the hour, until `sync` learns the real reset time from
``GET /self/usage``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

from mistctl.mist.clock import Clock

DEFAULT_LIMIT = 5000
DEFAULT_WINDOW = 3600.0
#: Share of the limit left unused: other tools on the same token and calls in flight across a reset.
DEFAULT_HEADROOM = 0.01
SNAP = 1.0  # seconds: how far a synced reset may be from the grid and still snap to it


def check_budget_settings(limit: int, window: float, headroom: float) -> None:
    """Refuse a budget that could never let a call through (both adapters check the same way)."""
    if limit < 1 or window <= 0 or not 0 <= headroom < 1:
        raise ValueError("budget needs limit >= 1, window > 0 and 0 <= headroom < 1")


def token_fingerprint(token: SecretStr | str) -> str:
    """First 12 hex digits of the token's sha256: a stable, non-secret key for a token."""
    raw = token.get_secret_value() if isinstance(token, SecretStr) else token
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class BudgetState:
    """One token's window as the budget sees it; for progress bars and ETAs."""

    key: str
    limit: int  # Mist's request limit for the window
    used: int  # calls counted in the current window
    reserve: int  # calls deliberately left unused
    reset_in: float  # seconds until the window resets

    @property
    def remaining(self) -> int:
        """Calls the client may still send in this window."""
        return max(0, self.limit - self.reserve - self.used)


class CallBudget(Protocol):
    """Counts calls per token per window; async so a shared (Redis) store can implement it."""

    async def reserve(self, key: str) -> float:
        """Take one call: 0.0 when taken, else the seconds until the window resets (nothing taken)."""
        ...

    async def sync(self, key: str, *, used: int, limit: int, reset_in: float | None) -> None:
        """Adopt Mist's own count (``GET /self/usage``): calls used, the limit, seconds to reset."""
        ...

    async def exhaust(self, key: str, *, retry_after: float | None = None) -> float:
        """Mark the window spent after a 429; returns the seconds until calls may resume."""
        ...

    async def state(self, key: str) -> BudgetState:
        """The window's count and reset time."""
        ...


@dataclass
class _Window:
    end: float
    used: int
    limit: int


class InMemoryCallBudget:
    """A `CallBudget` for one process: a dict of windows, no locks needed (no await inside a method)."""

    def __init__(
        self,
        clock: Clock,
        *,
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        headroom: float = DEFAULT_HEADROOM,
    ) -> None:
        check_budget_settings(limit, window, headroom)
        self._clock = clock
        self._limit = limit
        self._length = window
        self._headroom = headroom
        self._windows: dict[str, _Window] = {}

    def _reserve_of(self, limit: int) -> int:
        return min(limit - 1, math.ceil(limit * self._headroom)) if limit > 1 else 0

    def _window(self, key: str) -> _Window:
        now = self._clock.now()
        win = self._windows.get(key)
        if win is None:
            end = (math.floor(now / self._length) + 1) * self._length
            win = self._windows[key] = _Window(end=end, used=0, limit=self._limit)
        elif now >= win.end:
            # Whole windows passed: the next reset stays on the same grid as the last one.
            win.end += (math.floor((now - win.end) / self._length) + 1) * self._length
            win.used = 0
        return win

    async def reserve(self, key: str) -> float:
        """Take one call: 0.0 when taken, else the seconds until the window resets."""
        win = self._window(key)
        if win.used < win.limit - self._reserve_of(win.limit):
            win.used += 1
            return 0.0
        return max(win.end - self._clock.now(), 0.001)

    async def sync(self, key: str, *, used: int, limit: int, reset_in: float | None) -> None:
        """Adopt Mist's count; a known reset time re-anchors the window grid."""
        win = self._window(key)
        win.used = max(0, used)
        win.limit = max(1, limit)
        if reset_in is not None and reset_in > 0:
            end = self._clock.now() + reset_in
            # Mist rounds `seconds`: within a second of the epoch grid, the grid is the truth.
            grid = math.ceil(end / self._length) * self._length
            near = min(grid, grid - self._length, key=lambda g: abs(g - end))
            win.end = near if abs(near - end) < SNAP else end

    async def exhaust(self, key: str, *, retry_after: float | None = None) -> float:
        """Mark the window spent; a Retry-After becomes the window's reset time."""
        win = self._window(key)
        win.used = win.limit
        if retry_after is not None:
            win.end = self._clock.now() + max(0.0, retry_after)
        return max(win.end - self._clock.now(), 0.0)

    async def state(self, key: str) -> BudgetState:
        """The window's count and reset time."""
        win = self._window(key)
        return BudgetState(
            key=key,
            limit=win.limit,
            used=win.used,
            reserve=self._reserve_of(win.limit),
            reset_in=max(0.0, win.end - self._clock.now()),
        )
