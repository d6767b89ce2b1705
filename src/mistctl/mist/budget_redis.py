"""The per-token call budget in Redis: every worker and service replica using a token shares one window.

Each token fingerprint has one hash, `<prefix>budget:<fingerprint>` {end, used, limit, held, gen}. Every
operation is one Lua script, so "count and compare" is a single atomic step however many processes reserve
at once. A worker's job may take its few calls at once (`reserve_many`, `mistctl.mist.budget_batch`): they
are counted as used at once and `held` until the job settles them, giving back those it did not send; a
sync keeps the held ones counted, and after a sync or a 429 (`gen` moves) nothing is given back.
Windows are aligned to multiples of the window length since the epoch, like `InMemoryCallBudget` (Mist
resets at the top of the hour), until `sync` learns the real reset from ``GET /self/usage``.

Times come from the caller's `Clock` (passed to every script), so tests move windows by hand. A window's
hash expires one window after its end, so idle tokens leave nothing behind.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mistctl.config import Settings
from mistctl.mist.budget import (
    DEFAULT_HEADROOM,
    DEFAULT_LIMIT,
    DEFAULT_WINDOW,
    SNAP,
    BudgetState,
    CallBudget,
    check_budget_settings,
)
from mistctl.mist.clock import Clock, SystemClock

if TYPE_CHECKING:  # redis is imported by the Redis store, only when one is used
    from redis.asyncio import Redis

# ARGV[1..4] of every script: now, window length, default limit, headroom (share of the limit kept back).
_COMMON = """
local now = tonumber(ARGV[1])
local length = tonumber(ARGV[2])
local w = redis.call('HMGET', KEYS[1], 'end', 'used', 'limit', 'held', 'gen')
local finish = tonumber(w[1])
local used = tonumber(w[2]) or 0
local limit = tonumber(w[3]) or tonumber(ARGV[3])
local held = tonumber(w[4]) or 0  -- calls reserved in batches (`reserve_many`) and not settled yet
local gen = tonumber(w[5]) or 0  -- moves on each sync and 429: a batch's unused calls are not given back
if not finish then
  finish = (math.floor(now / length) + 1) * length
  used = 0
  held = 0
elseif now >= finish then
  -- whole windows passed: the next reset stays on the same grid as the last one
  finish = finish + (math.floor((now - finish) / length) + 1) * length
  used = 0
  held = 0
end
local function keep()
  redis.call('HSET', KEYS[1], 'end', string.format('%.6f', finish), 'used', used, 'limit', limit,
             'held', held, 'gen', gen)
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((finish - now + length) * 1000)))
end
local function kept_back()
  if limit <= 1 then return 0 end
  return math.min(limit - 1, math.ceil(limit * tonumber(ARGV[4])))
end
"""

_RESERVE = _COMMON + """
if used < limit - kept_back() then
  used = used + 1
  keep()
  return '0'
end
keep()
return string.format('%.6f', math.max(finish - now, 0.001))
"""

# ARGV[5]: how many calls. Takes as many as the window has left, at most that many, counted at once (and
# held until `_SETTLE`): {taken, the window's end, its generation}; none left: {0, seconds to the reset}.
_RESERVE_MANY = _COMMON + """
local free = limit - kept_back() - used
if free > 0 then
  local taken = math.min(free, tonumber(ARGV[5]))
  used = used + taken
  held = held + taken
  keep()
  return {taken, string.format('%.6f', finish), tostring(gen)}
end
keep()
return {0, string.format('%.6f', math.max(finish - now, 0.001))}
"""

# ARGV[5..8]: calls taken by `_RESERVE_MANY`, how many of them were not used, and the window's end and
# generation it answered. In the same window they are no longer held, and the unused ones are given back
# unless a sync or a 429 came between (the count then is Mist's, or the window is spent).
_SETTLE = _COMMON + """
if string.format('%.6f', finish) == ARGV[7] then
  held = math.max(0, held - tonumber(ARGV[5]))
  if tostring(gen) == ARGV[8] then used = math.max(0, used - tonumber(ARGV[6])) end
end
keep()
return 1
"""

# ARGV[5..7]: Mist's count, Mist's limit, seconds to Mist's reset (negative: unknown); ARGV[8]: snap.
_SYNC = _COMMON + """
local mist_used = math.max(0, tonumber(ARGV[5]))
local reset_in = tonumber(ARGV[7])
local snap = tonumber(ARGV[8])
limit = math.max(1, tonumber(ARGV[6]))
local anchored = finish
if reset_in > 0 then
  anchored = now + reset_in
  local grid = math.ceil(anchored / length) * length
  local near = grid
  if math.abs(grid - length - anchored) < math.abs(grid - anchored) then near = grid - length end
  if math.abs(near - anchored) < snap then anchored = near end
end
gen = gen + 1
if math.abs(anchored - finish) < snap then
  -- same window: calls other workers reserved may not have reached Mist yet; never give them away
  used = math.max(used, mist_used + held)
else
  finish = anchored
  used = mist_used + held
end
keep()
return 1
"""

# ARGV[5]: Retry-After seconds (negative: none).
_EXHAUST = _COMMON + """
used = limit
gen = gen + 1
local retry_after = tonumber(ARGV[5])
if retry_after >= 0 then finish = now + retry_after end
keep()
return string.format('%.6f', math.max(finish - now, 0))
"""

_STATE = _COMMON + """
keep()
local reset_in = string.format('%.6f', math.max(finish - now, 0))
return {tostring(used), tostring(limit), reset_in, tostring(kept_back())}
"""


@dataclass(frozen=True)
class Batch:
    """Calls taken at once by `RedisCallBudget.reserve_many`: valid until the window's `end` (the caller's
    clock); `mark` and `gen` say which window and generation took them (for `settle`)."""

    key: str
    taken: int
    end: float
    mark: str
    gen: str


class RedisCallBudget:
    """A `CallBudget` shared through Redis (see the module docstring); keys are token fingerprints."""

    def __init__(
        self,
        client: Redis,
        clock: Clock,
        *,
        prefix: str = "mistctl:",
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        headroom: float = DEFAULT_HEADROOM,
    ) -> None:
        check_budget_settings(limit, window, headroom)
        self._clock = clock
        self._prefix = prefix
        self._args = (window, limit, headroom)
        self._reserve = client.register_script(_RESERVE)
        self._sync = client.register_script(_SYNC)
        self._exhaust = client.register_script(_EXHAUST)
        self._state = client.register_script(_STATE)
        self._reserve_many = client.register_script(_RESERVE_MANY)
        self._settle = client.register_script(_SETTLE)

    def __repr__(self) -> str:
        window, limit, _ = self._args
        return f"RedisCallBudget(prefix={self._prefix!r}, limit={limit}, window={window})"

    def key_of(self, key: str) -> str:
        """The Redis key holding a token's window."""
        return f"{self._prefix}budget:{key}"

    def _call(self, script: Any, key: str, *extra: float | str) -> tuple[Any, list[str], list[str]]:
        args = [repr(float(self._clock.now())), *(repr(float(a)) for a in self._args),
                *(x if isinstance(x, str) else repr(x) for x in extra)]
        return script, [self.key_of(key)], args

    async def _run(self, script: Any, key: str, *extra: float | str) -> Any:
        script, keys, args = self._call(script, key, *extra)
        return await script(keys=keys, args=args)

    async def reserve_many(self, key: str, calls: int) -> Batch | float:
        """Take up to `calls` calls at once (as many as the window has left): the `Batch` taken, to
        `settle` once the job is done; else the seconds until the window resets (nothing taken)."""
        script, keys, args = self.reserve_many_call(key, calls)
        return self.batch_of(key, await script(keys=keys, args=args))

    def reserve_many_call(self, key: str, calls: int) -> tuple[Any, list[str], list[str]]:
        """`reserve_many` as a script call, to send with other writes (`mistctl.store.redis_batch`);
        `batch_of` reads its reply."""
        return self._call(self._reserve_many, key, float(calls))

    @staticmethod
    def batch_of(key: str, answer: Any) -> Batch | float:
        """The reply of a `reserve_many_call`: the `Batch` taken, or the seconds until the reset."""
        if int(answer[0]) == 0:
            return float(answer[1])
        mark, gen = (x.decode() if isinstance(x, bytes) else str(x) for x in answer[1:3])
        return Batch(key, int(answer[0]), float(mark), mark, gen)

    def settle_call(self, batch: Batch, unused: int) -> tuple[Any, list[str], list[str]]:
        """The script call that settles a batch (`_SETTLE`), to send with other writes
        (`mistctl.store.redis_batch`): its calls no longer held, the `unused` ones given back."""
        return self._call(self._settle, batch.key, float(batch.taken), float(unused), batch.mark, batch.gen)

    async def settle(self, batch: Batch, unused: int) -> None:
        """Settle a batch now (`settle_call`)."""
        script, keys, args = self.settle_call(batch, unused)
        await script(keys=keys, args=args)

    async def reserve(self, key: str) -> float:
        """Take one call: 0.0 when taken, else the seconds until the window resets (nothing taken)."""
        return float(await self._run(self._reserve, key))

    async def sync(self, key: str, *, used: int, limit: int, reset_in: float | None) -> None:
        """Adopt Mist's count and limit; a known reset time re-anchors the window grid.

        Within the same window the shared count only goes up: calls other processes reserved may not have
        reached Mist when it answered, and giving them away would overshoot the limit.
        """
        known = -1.0 if reset_in is None else reset_in
        await self._run(self._sync, key, float(used), float(limit), known, SNAP)

    async def exhaust(self, key: str, *, retry_after: float | None = None) -> float:
        """Mark the window spent after a 429; a Retry-After becomes the window's reset time."""
        given = -1.0 if retry_after is None else max(0.0, retry_after)
        return float(await self._run(self._exhaust, key, given))

    async def state(self, key: str) -> BudgetState:
        """The shared window's count and reset time."""
        used, limit, reset_in, reserve = await self._run(self._state, key)
        return BudgetState(key=key, limit=int(limit), used=int(used), reserve=int(reserve),
                           reset_in=max(0.0, float(reset_in)))


def shared_budget(store: object, settings: Settings, clock: Clock | None = None) -> CallBudget | None:
    """The Redis budget when the state store is Redis (one window per token for every process), else None."""
    redis_store = sys.modules.get("mistctl.store.redis_store")  # not imported: no store can be a RedisStore
    if redis_store is None or not isinstance(store, redis_store.RedisStore):
        return None
    return RedisCallBudget(store.r, clock or SystemClock(), prefix=store.keys.prefix,
                           limit=settings.mist_rate_limit, window=settings.mist_rate_window)
