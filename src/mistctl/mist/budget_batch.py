"""One job's calls taken from the shared Redis budget at once: one round trip for a site job's few calls.

A worker's site job knows how many calls it will make (a site, its variables, its devices: about 3). Its
`JobBudget` takes that many with its first reservation (`RedisCallBudget.reserve_many`, counted as used at
once, so the shared per-admin window is never exceeded however many jobs run), hands them out without a
round trip while the window they were taken in lasts, and reserves one at a time past them (a retry, a
429). When the job ends its batch is settled (`settle_calls`, sent with the job's done mark): the calls it
did not send are given back to the window (unless a sync or a 429 came between), or, if its worker dies,
stay counted until the window ends (never too few).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mistctl.mist.budget import BudgetState, CallBudget
from mistctl.mist.budget_redis import Batch, RedisCallBudget
from mistctl.mist.clock import Clock

ScriptCall = tuple[Any, list[str], list[str]]


class JobBudget:
    """A `CallBudget` for one job over the shared one (module docstring): `calls` taken at once per budget
    key on its first reservation (one at a time when the shared budget is not Redis or `calls` < 2)."""

    def __init__(self, shared: CallBudget, clock: Clock, calls: int,
                 send: Callable[[ScriptCall], Awaitable[Any]] | None = None) -> None:
        """`send`: how a batch's script call goes to Redis (the worker sends the job's first writes with
        it, `mistctl.store.redis_batch`); its reply back. By default on its own."""
        self.shared = shared
        self._clock = clock
        self._redis = shared if isinstance(shared, RedisCallBudget) else None
        self._calls = calls if self._redis is not None else 0
        self._send = send or _send_alone
        self._batches: dict[str, Batch] = {}
        self._left: dict[str, int] = {}

    @property
    def batching(self) -> bool:
        """Whether the first reservation takes a batch (and goes through `send`)."""
        return self._calls > 1

    async def reserve(self, key: str) -> float:
        """Take one call: from the job's batch while it lasts, else from the shared budget."""
        if key not in self._batches and self._calls > 1 and self._redis is not None:
            got = self._redis.batch_of(key, await self._send(self._redis.reserve_many_call(key, self._calls)))
            if isinstance(got, float):
                return got
            self._batches[key], self._left[key] = got, got.taken - 1
            return 0.0
        if self._left.get(key, 0) > 0:
            if self._clock.now() < self._batches[key].end:
                self._left[key] -= 1
                return 0.0
            self._left[key] = 0  # taken in a window that is over: Mist counts this call in the next one
        return await self.shared.reserve(key)

    async def sync(self, key: str, *, used: int, limit: int, reset_in: float | None) -> None:
        await self.shared.sync(key, used=used, limit=limit, reset_in=reset_in)

    async def exhaust(self, key: str, *, retry_after: float | None = None) -> float:
        """A 429: what is left of the batch is not used (Mist says the window is spent)."""
        if key in self._left:
            self._left[key] = 0
        return await self.shared.exhaust(key, retry_after=retry_after)

    async def state(self, key: str) -> BudgetState:
        return await self.shared.state(key)

    def settle_calls(self) -> list[ScriptCall]:
        """The script calls that settle the job's batches (to send with its other writes); none twice."""
        redis = self._redis
        calls = [redis.settle_call(batch, self._left[key]) for key, batch in self._batches.items()
                 if redis is not None]
        self._batches, self._left = {}, {}
        return calls


async def _send_alone(call: ScriptCall) -> Any:
    script, keys, args = call
    return await script(keys=keys, args=args)
