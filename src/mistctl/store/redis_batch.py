"""Store writes held back and sent together: a worker's site job sends its records with its done mark.

`HeldWrites` stands in for a `RedisStore` where a job's `Records` write: the writes it holds are kept, in
order, as (store method, arguments); `write_batch` sends them in one MULTI/EXEC, each as that method
would have sent it (the store's own `_queue_*` helpers and scripts), then one more script (the done mark)
in the same transaction, so the mark is never in Redis without the records before it.

Scripts in the transaction go as EVAL, their text with them: an EVALSHA of a script Redis has not loaded
(a restarted server) would fail alone inside it, after the writes before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mistctl.store.models import AuditEntry, ObjRef, RunImage, SiteState, StepRecord
from mistctl.store.redis_runs import guarded
from mistctl.store.redis_store import RedisStore

#: A held write: the `RedisStore` method and its arguments (or "eval" and a `ScriptCall`).
Write = tuple[str, tuple[Any, ...]]
#: A script to run after the writes: the registered script (redis-py `AsyncScript`), its keys, its arguments.
ScriptCall = tuple[Any, list[str], list[str]]


class HeldWrites:
    """A `RedisStore` whose record writes wait in `writes` (module docstring); reads and every other
    call go to the store at once. `now` picks the site states written at once (the console shows them
    while the job runs): by default a site's "provisioning" state."""

    def __init__(self, store: RedisStore, now: tuple[str, ...] = ("provisioning",)) -> None:
        self.store = store
        self.writes: list[Write] = []
        self.early: list[Write] | None = None  # a list: the `now` states wait for `send_early`
        self._now = now

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def record_done(self, rec: StepRecord, ref: ObjRef, audit: Sequence[AuditEntry], *,
                          images: Sequence[RunImage] = (), state: SiteState | None = None) -> None:
        self.writes.append(("record_done", (rec, ref, list(audit))))
        if images:
            await self.put_run_images(images)
        if state is not None:
            await self.put_site_state(state)

    async def record_step(self, rec: StepRecord) -> None:
        self.writes.append(("record_steps", ((rec,),)))

    async def put_site_state(self, state: SiteState) -> None:
        if state.status not in self._now:
            self.writes.append(("put_site_states", ((state,),)))
        elif self.early is not None:
            self.early.append(("put_site_states", ((state,),)))
        else:
            await self.store.put_site_state(state)

    def hold_early(self) -> None:
        """From now on the `now` states wait for the next round trip the job makes anyway (`send_early`)
        instead of making one of their own."""
        self.early = []

    async def send_early(self, call: ScriptCall) -> Any:
        """Run a script call (the job's budget batch) with the `now` states held so far, in one round
        trip; its reply. The `now` states are written at once again after it."""
        writes, self.early = self.early or [], None
        return await write_batch(self.store, writes, call)

    async def put_run_images(self, images: Sequence[RunImage]) -> None:
        self.writes.append(("put_run_images", (list(images),)))

    async def append_audit_batch(self, entries: Sequence[AuditEntry]) -> None:
        if entries:
            self.writes.append(("append_audit_batch", (list(entries),)))

    def run_script(self, call: ScriptCall) -> None:
        """Hold a script call (the registered script, its keys and arguments) with the writes."""
        self.writes.append(("eval", call))

    def take(self) -> list[Write]:
        """The writes held so far (no longer held), the early ones first."""
        writes, self.writes, self.early = [*(self.early or ()), *self.writes], [], None
        return writes


def _queue(store: RedisStore, pipe: Any, writes: Sequence[Write]) -> None:
    """Queue the held writes on `pipe` as their store methods send them, merged: one command per hash or
    list for all of them (in one transaction their order across keys is invisible; the last write of one
    record wins, the audit entries keep their order, the site states are moved in order)."""
    steps: list[StepRecord] = []
    refs: list[ObjRef] = []
    audit: list[AuditEntry] = []
    images: list[RunImage] = []
    states: list[SiteState] = []
    scripts: list[ScriptCall] = []
    for name, args in writes:
        if name == "record_done":
            steps.append(args[0])
            refs.append(args[1])
            audit += args[2]
        elif name == "record_steps":
            steps += args[0]
        elif name == "put_run_images":
            images += args[0]
        elif name == "append_audit_batch":
            audit += args[0]
        elif name == "put_site_states":
            states += args[0]
        elif name == "eval":
            scripts.append(args)
        else:
            raise ValueError(f"no batched form of the store write {name!r}")
    store._queue_steps(pipe, steps)
    store._queue_objects(pipe, refs)
    store._queue_audit(pipe, audit)
    store._queue_images(pipe, images)
    store._queue_site_states(pipe, states)
    for call in scripts:
        _script(pipe, call)


def _script(pipe: Any, call: ScriptCall) -> None:
    script, keys, args = call
    pipe.eval(script.script, len(keys), *keys, *args)


@guarded
async def write_batch(store: RedisStore, writes: Sequence[Write], then: ScriptCall | None = None) -> Any:
    """Send `writes` in one MULTI/EXEC, `then` last in it; `then`'s reply (None without one)."""
    if not writes and then is None:
        return None
    async with store.r.pipeline(transaction=True) as pipe:
        _queue(store, pipe, writes)
        if then is not None:
            _script(pipe, then)
        replies = await pipe.execute()
    return replies[-1] if then is not None else None
