"""Runs, events and locks of `RedisStore` (the half of the store the service's workers share most)."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import orjson
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mistctl.store import redis_keys as rk
from mistctl.store._common import check_page, parse_patch, prepare_event
from mistctl.store.errors import RecordNotFound, RecordRejected, StoreUnavailable
from mistctl.store.models import Event, LockInfo, Run, RunPatch, RunStatus

_P = ParamSpec("_P")
_R = TypeVar("_R")
_B = TypeVar("_B", bound="RedisBase")

_RUN_FIELDS = tuple(name for name in Run.model_fields if name != "counts")
LOCK_BATCH = 500  # locks per script call: Redis serves nothing else while one runs
_RUN_FIELDS_NO_PLAN = tuple(name for name in _RUN_FIELDS if name != "plan")


class RedisBase:
    """The client, the key builder and where the server is (for messages)."""

    def __init__(self, client: Redis, keys: rk.Keys, where: str) -> None:
        self.r = client
        self.keys = keys
        self.where = where


def guarded(
    fn: Callable[Concatenate[_B, _P], Coroutine[Any, Any, _R]],
) -> Callable[Concatenate[_B, _P], Coroutine[Any, Any, _R]]:
    """Turn a lost connection into `StoreUnavailable` naming the server (never its password)."""

    @functools.wraps(fn)
    async def wrapper(self: _B, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await fn(self, *args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(
                f"cannot reach Redis at {self.where} ({exc}); start redis-server or fix the store URL"
            ) from None

    return cast(Callable[Concatenate[_B, _P], Coroutine[Any, Any, _R]], wrapper)


async def aw(reply: Awaitable[_R] | _R) -> _R:
    """Await a redis-py reply (its typing mixes the sync and asyncio clients)."""
    return await reply if inspect.isawaitable(reply) else reply


def _not_found(run_id: str) -> RecordNotFound:
    return RecordNotFound(f"run {run_id} not found; list runs with `mistctl status`")


def _encode_fields(values: Mapping[str, Any]) -> list[str]:
    """Flatten {field: json-able value} into HSET arguments, each value JSON-encoded."""
    return [
        item for name, value in values.items() for item in (name, json.dumps(value, separators=(",", ":")))
    ]


_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _not_plain(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def _patch_fields(patch: RunPatch) -> list[str]:
    """A patch's fields as HSET arguments. A plan (megabytes for thousands of sites) of plain JSON data, as
    `Plan.to_json` makes it, is encoded by orjson as it was validated, instead of through pydantic's JSON
    mode and `json.dumps` (five times slower): the same JSON value (only non-ASCII text is stored unescaped).
    Anything else in it (a datetime, a set, an integer past 64 bits...) goes the pydantic way, as before."""
    fields = set(patch.model_fields_set)
    plan = patch.plan if "plan" in fields else None
    encoded: list[str] = []
    if plan is not None:
        try:
            encoded = ["plan", orjson.dumps(plan, default=_not_plain, option=_PASSTHROUGH).decode()]
            fields.discard("plan")
        except orjson.JSONEncodeError:
            pass
    return [*encoded, *_encode_fields(patch.model_dump(mode="json", include=fields))] if fields else encoded


class RedisRuns(RedisBase):
    """Runs (one hash per run, counters beside it), event streams and locks."""

    def __init__(self, client: Redis, keys: rk.Keys, where: str) -> None:
        super().__init__(client, keys, where)
        self._create_run = client.register_script(rk.CREATE_RUN)
        self._hset_if_exists = client.register_script(rk.HSET_IF_EXISTS)
        self._incr_counts = client.register_script(rk.INCR_COUNTS)
        self._publish = client.register_script(rk.PUBLISH_EVENT)
        self._acquire = client.register_script(rk.ACQUIRE_LOCK)
        self._refresh = client.register_script(rk.REFRESH_LOCK)
        self._release = client.register_script(rk.RELEASE_LOCK)
        self._break = client.register_script(rk.BREAK_LOCK)
        self._acquire_many = client.register_script(rk.ACQUIRE_LOCKS)
        self._refresh_many = client.register_script(rk.REFRESH_LOCKS)
        self._release_many = client.register_script(rk.RELEASE_LOCKS)

    # --- runs -----------------------------------------------------------------------------------------
    @guarded
    async def create_run(self, run: Run) -> Run:
        """Persist a new run (refused if the id exists)."""
        fields = _encode_fields(run.model_dump(mode="json", exclude={"counts"}))
        counts = [item for name, n in run.counts.items() for item in (name, str(n))]
        keys = [self.keys.k("run", run.id), self.keys.k("runcounts", run.id), self.keys.k("runs")]
        args = [run.id, repr(run.created_at.timestamp()), str(len(run.counts)), *counts, *fields]
        if not await self._create_run(keys=keys, args=args):
            raise RecordRejected(f"run {run.id} already exists; create runs with a fresh id")
        return run

    @guarded
    async def get_run(self, run_id: str, *, include_plan: bool = True) -> Run | None:
        """The run (its plan left out unless `include_plan`), or None."""
        runs = await self._load_runs([run_id], include_plan=include_plan)
        return runs[0] if runs else None

    async def _load_runs(self, run_ids: list[str], *, include_plan: bool) -> list[Run]:
        fields = _RUN_FIELDS if include_plan else _RUN_FIELDS_NO_PLAN
        async with self.r.pipeline(transaction=False) as pipe:
            for run_id in run_ids:
                pipe.hmget(self.keys.k("run", run_id), list(fields))
                pipe.hgetall(self.keys.k("runcounts", run_id))
            replies = await pipe.execute()
        runs = []
        for values, counts in zip(replies[::2], replies[1::2], strict=True):
            if values[0] is None:  # the id field: no such run
                continue
            data = {name: json.loads(v) for name, v in zip(fields, values, strict=True) if v is not None}
            runs.append(Run.model_validate({**data, "counts": {k: int(n) for k, n in counts.items()}}))
        return runs

    async def update_run(self, run_id: str, **changes: Any) -> Run:
        """Set the given fields only (one HSET: concurrent counters and other fields are untouched); the run
        read back without its plan."""
        return await self._update_run(run_id, parse_patch(run_id, changes))

    async def set_run_fields(self, run_id: str, **changes: Any) -> None:
        """`update_run` without reading the run back (its plan is megabytes for thousands of sites): for the
        queue's workers, which write a run's status and heartbeat and never look at the answer."""
        await self._set_run_fields(run_id, parse_patch(run_id, changes))

    @guarded
    async def _set_run_fields(self, run_id: str, patch: RunPatch) -> None:
        fields = _patch_fields(patch)
        if fields and not await self._hset_if_exists(keys=[self.keys.k("run", run_id)], args=fields):
            raise _not_found(run_id)

    @guarded
    async def _update_run(self, run_id: str, patch: RunPatch) -> Run:
        await self._set_run_fields(run_id, patch)
        run = await self.get_run(run_id, include_plan=False)
        if run is None:
            raise _not_found(run_id)
        return run

    @guarded
    async def incr_run_counts(self, run_id: str, deltas: Mapping[str, int]) -> dict[str, int]:
        """HINCRBY each counter, atomically with the existence check; the new counts."""
        args = [item for name, n in deltas.items() for item in (name, str(int(n)))]
        keys = [self.keys.k("run", run_id), self.keys.k("runcounts", run_id)]
        flat = await self._incr_counts(keys=keys, args=args)
        if flat is None:
            raise _not_found(run_id)
        return {flat[i]: int(flat[i + 1]) for i in range(0, len(flat), 2)}

    @guarded
    async def list_runs(
        self, limit: int = 50, status: RunStatus | None = None, *, include_plan: bool = False
    ) -> list[Run]:
        """Newest first; a status filter pages through the index (runs are few)."""
        check_page(limit)
        batch = max(limit, 100)
        found: list[Run] = []
        start = 0
        while len(found) < limit:
            ids = await aw(self.r.zrevrange(self.keys.k("runs"), start, start + batch - 1))
            if not ids:
                break
            runs = await self._load_runs(list(ids), include_plan=include_plan)
            found.extend(r for r in runs if status is None or r.status == status)
            start += batch
        return found[:limit]

    async def request_cancel(self, run_id: str) -> Run:
        """Flag the run for cancellation."""
        return await self.update_run(run_id, cancel_requested=True)

    # --- events ---------------------------------------------------------------------------------------
    @guarded
    async def publish_event(self, run_id: str, event: Mapping[str, Any]) -> int:
        """XADD the event with id `<seq>-0`; its sequence number."""
        keys = [self.keys.k("ev", run_id), self.keys.k("evseq", run_id)]
        return int(await self._publish(keys=keys, args=[prepare_event(run_id, event)]))

    @guarded
    async def events_since(self, run_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        """XRANGE after `after_seq`."""
        check_page(limit)
        entries = await aw(
            self.r.xrange(self.keys.k("ev", run_id), f"{max(after_seq, 0) + 1}-0", "+", count=limit)
        )
        return [(int(entry_id.split("-")[0]), json.loads(data["e"])) for entry_id, data in entries]

    @guarded
    async def wait_events(
        self, run_id: str, after_seq: int = 0, timeout: float = 15.0, limit: int = 1000
    ) -> list[Event]:
        """XREAD BLOCK for events after `after_seq` (returns at once when some exist)."""
        block_ms = int(timeout * 1000)
        if block_ms <= 0:  # BLOCK 0 would wait forever
            return await self.events_since(run_id, after_seq, limit)
        check_page(limit)
        key = self.keys.k("ev", run_id)
        reply = await aw(self.r.xread({key: f"{max(after_seq, 0)}-0"}, count=limit, block=block_ms))
        if not reply:
            return []
        return [(int(entry_id.split("-")[0]), json.loads(data["e"])) for entry_id, data in reply[0][1]]

    # --- locks ----------------------------------------------------------------------------------------
    def _lock_keys(self, name: str) -> list[str]:
        return [self.keys.k("lock", name), self.keys.k("lockholder", name)]

    @guarded
    async def acquire_lock(self, name: str, owner: str, ttl_s: float, *, holder: str = "") -> bool:
        """SET PX unless another owner holds it (ours is extended)."""
        return bool(await self._acquire(keys=self._lock_keys(name), args=[owner, _ms(ttl_s), holder]))

    @guarded
    async def refresh_lock(self, name: str, owner: str, ttl_s: float) -> bool:
        """PEXPIRE if the lock is ours."""
        return bool(await self._refresh(keys=self._lock_keys(name), args=[owner, _ms(ttl_s)]))

    @guarded
    async def release_lock(self, name: str, owner: str) -> bool:
        """Compare-and-delete."""
        return bool(await self._release(keys=self._lock_keys(name), args=[owner]))

    async def _many(self, script: Any, names: Sequence[str], args: list[Any]) -> list[bool]:
        """A multi-lock script over `names`, LOCK_BATCH locks per call (Redis runs each call alone)."""
        answers: list[bool] = []
        for i in range(0, len(names), LOCK_BATCH):
            keys = [key for name in names[i:i + LOCK_BATCH] for key in self._lock_keys(name)]
            answers += [bool(x) for x in await script(keys=keys, args=args)]
        return answers

    @guarded
    async def acquire_locks(self, names: Sequence[str], owner: str, ttl_s: float, *,
                            holder: str = "") -> list[bool]:
        """`acquire_lock` of each name, a script call per LOCK_BATCH names."""
        return await self._many(self._acquire_many, names, [owner, _ms(ttl_s), holder])

    @guarded
    async def refresh_locks(self, names: Sequence[str], owner: str, ttl_s: float) -> list[bool]:
        """`refresh_lock` of each name, a script call per LOCK_BATCH names."""
        return await self._many(self._refresh_many, names, [owner, _ms(ttl_s)])

    @guarded
    async def release_locks(self, names: Sequence[str], owner: str) -> list[bool]:
        """`release_lock` of each name, a script call per LOCK_BATCH names."""
        return await self._many(self._release_many, names, [owner])

    @guarded
    async def get_lock(self, name: str) -> LockInfo | None:
        """The lock's owner, holder and expiry, or None."""
        pipe = self.r.pipeline(transaction=True)
        lock, held = self._lock_keys(name)
        pipe.get(lock)
        pipe.get(held)
        pipe.pttl(lock)
        owner, holder, pttl = await pipe.execute()
        return None if owner is None else _lock_info(name, owner, holder or "", pttl)

    @guarded
    async def break_lock(self, name: str, owner: str | None = None) -> LockInfo | None:
        """Delete the lock whoever holds it (only `owner`'s, if given); what was deleted."""
        reply = await self._break(keys=self._lock_keys(name), args=[owner or ""])
        return None if not reply else _lock_info(name, reply[0], reply[1], int(reply[2]))


def _lock_info(name: str, owner: Any, holder: Any, pttl: int) -> LockInfo:
    def text(v: Any) -> str:
        return v.decode() if isinstance(v, bytes) else str(v)

    expires = datetime.now(UTC) + timedelta(milliseconds=max(pttl, 0))
    return LockInfo(name=name, owner=text(owner), holder=text(holder), expires_at=expires)


def _ms(ttl_s: float) -> int:
    return max(1, int(ttl_s * 1000))
