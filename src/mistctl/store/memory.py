"""`MemoryStore`: the state store in process memory, for unit tests of the engine.

Records are copied in and out, so a caller mutating a returned plan does not change what is stored.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from mistctl.store._common import (
    ANY_SITE,
    SiteFilter,
    StoreLifecycle,
    check_page,
    make_fingerprint,
    prepare_event,
    site_matches,
    step_sort_key,
)
from mistctl.store.memory_runs import MemoryRuns
from mistctl.store.models import (
    SITE_STATUSES,
    AuditEntry,
    Event,
    Fingerprint,
    LockInfo,
    ObjRef,
    RunImage,
    SiteState,
    SiteStatus,
    StepRecord,
)
from mistctl.store.sle_history import MemorySleHistory

StepId = tuple[str, str | None, int, str, str]


class MemoryStore(MemoryRuns, MemorySleHistory, StoreLifecycle):
    """The `StateStore` port in memory; `clock` (seconds) drives lock expiry."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        MemoryRuns.__init__(self)
        MemorySleHistory.__init__(self)
        self._clock = clock
        self._steps: dict[StepId, StepRecord] = {}
        self._objects: dict[tuple[str, str], dict[str, ObjRef]] = {}
        self._sites: dict[tuple[str, str], SiteState] = {}
        self._audit: list[AuditEntry] = []
        self._events: dict[str, list[str]] = {}
        self._event_cond: asyncio.Condition | None = None
        self._locks: dict[str, tuple[str, float]] = {}
        self._lock_holders: dict[str, str] = {}
        self._fingerprints: dict[tuple[str, str, str], Fingerprint] = {}
        self._images: dict[str, dict[tuple[str, str], RunImage]] = {}  # run -> (kind, key) -> image, in order
        self._ip_plan: tuple[bytes, dict[str, Any]] | None = None  # the last IP plan kept: (its JSON, its copy)

    def __repr__(self) -> str:
        return "MemoryStore()"

    async def close(self) -> None:
        """Nothing to release; kept for the port."""

    async def ping(self) -> None:
        """Always reachable."""

    # --- step records ---------------------------------------------------------------------------------
    async def record_step(self, rec: StepRecord) -> None:
        """Upsert by identity."""
        self._steps[rec.identity] = rec

    async def record_steps(self, recs: Sequence[StepRecord]) -> None:
        """Upsert many."""
        for rec in recs:
            self._steps[rec.identity] = rec

    async def record_done(self, rec: StepRecord, ref: ObjRef, audit: Sequence[AuditEntry], *,
                          images: Sequence[RunImage] = (), state: SiteState | None = None) -> None:
        """`record_step`, `put_object`, `append_audit_batch`, `put_run_images` and `put_site_state` in one go
        (`ref` kept as it is, frozen and validated, with the owner recorded before when it names none)."""
        self._steps[rec.identity] = rec
        known = self._objects.setdefault((ref.org_id, ref.kind), {})
        before = known.get(ref.key)
        if ref.owner is None and before is not None and before.owner is not None:
            ref = ref.model_copy(update={"owner": before.owner})
        known[ref.key] = ref
        self._audit.extend(audit)
        if images:
            await self.put_run_images(images)
        if state is not None:
            await self.put_site_state(state)

    async def get_steps(
        self, org_id: str, *, site: SiteFilter = ANY_SITE, run_id: str | None = None
    ) -> list[StepRecord]:
        """Records of the org, filtered, in identity order."""
        found = [
            r
            for r in self._steps.values()
            if r.org_id == org_id and site_matches(r.site, site) and (run_id is None or r.run_id == run_id)
        ]
        return sorted(found, key=step_sort_key)

    async def get_step(
        self, org_id: str, site: str | None, step: int, kind: str, key: str
    ) -> StepRecord | None:
        """One record by identity."""
        return self._steps.get((org_id, site, step, kind, key))

    # --- object map -----------------------------------------------------------------------------------
    async def put_object(
        self, org_id: str, kind: str, key: str, mist_id: str, applied_hash: str | None = None,
        owner: str | None = None,
    ) -> ObjRef:
        """Remember a Mist id (and its owner; None keeps the one recorded)."""
        known = self._objects.setdefault((org_id, kind), {})
        if owner is None and key in known:
            owner = known[key].owner
        ref = ObjRef(org_id=org_id, kind=kind, key=key, mist_id=mist_id, applied_hash=applied_hash, owner=owner)
        known[key] = ref
        return ref

    async def get_objects(self, org_id: str, kind: str) -> dict[str, ObjRef]:
        """Known objects of a kind."""
        return dict(self._objects.get((org_id, kind), {}))

    async def delete_object(self, org_id: str, kind: str, key: str) -> bool:
        """Forget a key."""
        return self._objects.get((org_id, kind), {}).pop(key, None) is not None

    # --- site states ----------------------------------------------------------------------------------
    async def put_site_state(self, state: SiteState) -> None:
        """Upsert by (org_id, name), its dicts copied (the rest is immutable: a deep copy of the whole record
        cost four times as much)."""
        sle = None if state.sle is None else dict(state.sle)  # its values are numbers or None
        self._sites[(state.org_id, state.name)] = state.model_copy(
            update={"ip_plan": self._ip_plan_copy(state.ip_plan), "sle": sle})

    def _ip_plan_copy(self, ip_plan: dict[str, Any] | None) -> dict[str, Any] | None:
        """A copy of a site's IP plan to keep: the one kept last when this one is the same (equal, and spelled the
        same by orjson: the same types and order), as every site of a run carries the fleet's plan. Kept copies
        are never changed, and every read copies them out."""
        if ip_plan is None:
            return None
        kept = self._ip_plan
        spelling = _spelling(ip_plan)
        if kept is not None and spelling is not None and kept[0] == spelling and kept[1] == ip_plan:
            return kept[1]
        copied = copy.deepcopy(ip_plan)
        self._ip_plan = None if spelling is None else (spelling, copied)
        return copied

    async def put_site_states(self, states: Sequence[SiteState]) -> None:
        """Upsert many."""
        for state in states:
            await self.put_site_state(state)

    async def get_site_state(self, org_id: str | None, name: str) -> SiteState | None:
        """A site's state."""
        keys = sorted(k for k in self._sites if k[1] == name and (org_id is None or k[0] == org_id))
        return self._sites[keys[0]].model_copy(deep=True) if keys else None

    async def list_site_states(
        self,
        org_id: str | None = None,
        status: SiteStatus | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[SiteState]:
        """A page ordered by (org_id, name)."""
        check_page(limit, offset)
        keys = sorted(
            k
            for k, s in self._sites.items()
            if (org_id is None or k[0] == org_id) and (status is None or s.status == status)
        )
        return [self._sites[k].model_copy(deep=True) for k in keys[offset : offset + limit]]

    async def count_site_states_by_status(self, org_id: str | None = None) -> dict[str, int]:
        """Sites per status."""
        counts: dict[str, int] = dict.fromkeys(SITE_STATUSES, 0)
        for (org, _), state in self._sites.items():
            if org_id is None or org == org_id:
                counts[state.status] += 1
        return counts

    # --- audit log ------------------------------------------------------------------------------------
    async def append_audit(self, entry: AuditEntry) -> None:
        """Append one entry."""
        self._audit.append(entry)

    async def append_audit_batch(self, entries: Sequence[AuditEntry]) -> None:
        """Append many."""
        self._audit.extend(entries)

    async def list_audit(
        self,
        run_id: str | None = None,
        site: str | None = None,
        limit: int = 100,
        offset: int = 0,
        *,
        newest_first: bool = False,
        kind: str | None = None,
        name: str | None = None,
    ) -> list[AuditEntry]:
        """A page of entries."""
        check_page(limit, offset)
        found = [
            e
            for e in self._audit
            if (run_id is None or e.run_id == run_id) and (site is None or e.site == site)
            and (kind is None or e.kind == kind) and (name is None or e.name == name)
        ]
        if newest_first:
            found.reverse()
        return found[offset : offset + limit]

    # --- events ---------------------------------------------------------------------------------------
    def _condition(self) -> asyncio.Condition:
        # Created on first use so that it belongs to the running event loop.
        if self._event_cond is None:
            self._event_cond = asyncio.Condition()
        return self._event_cond

    async def publish_event(self, run_id: str, event: Mapping[str, Any]) -> int:
        """Append an event; its sequence number."""
        stream = self._events.setdefault(run_id, [])
        stream.append(prepare_event(run_id, event))
        cond = self._condition()
        async with cond:
            cond.notify_all()
        return len(stream)

    async def events_since(self, run_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        """Events after `after_seq`."""
        check_page(limit)
        stream = self._events.get(run_id, [])
        start = max(after_seq, 0)
        return [(start + i + 1, json.loads(body)) for i, body in enumerate(stream[start : start + limit])]

    async def wait_events(
        self, run_id: str, after_seq: int = 0, timeout: float = 15.0, limit: int = 1000
    ) -> list[Event]:
        """Events after `after_seq`, waiting up to `timeout` for the first."""
        cond = self._condition()
        async with cond:
            try:
                await asyncio.wait_for(
                    cond.wait_for(lambda: len(self._events.get(run_id, [])) > after_seq), max(timeout, 0)
                )
            except TimeoutError:
                return []
        return await self.events_since(run_id, after_seq, limit)

    # --- locks ----------------------------------------------------------------------------------------
    def _live_owner(self, name: str) -> str | None:
        held = self._locks.get(name)
        if held is None or held[1] <= self._clock():
            self._locks.pop(name, None)
            return None
        return held[0]

    async def acquire_lock(self, name: str, owner: str, ttl_s: float, *, holder: str = "") -> bool:
        """Take (or extend our own) lock."""
        if self._live_owner(name) not in (None, owner):
            return False
        self._locks[name] = (owner, self._clock() + ttl_s)
        self._lock_holders[name] = holder
        return True

    async def refresh_lock(self, name: str, owner: str, ttl_s: float) -> bool:
        """Extend a lock we hold."""
        if self._live_owner(name) != owner:
            return False
        self._locks[name] = (owner, self._clock() + ttl_s)
        return True

    async def acquire_locks(self, names: Sequence[str], owner: str, ttl_s: float, *,
                            holder: str = "") -> list[bool]:
        """`acquire_lock` of each name."""
        return [await self.acquire_lock(n, owner, ttl_s, holder=holder) for n in names]

    async def refresh_locks(self, names: Sequence[str], owner: str, ttl_s: float) -> list[bool]:
        """`refresh_lock` of each name."""
        return [await self.refresh_lock(n, owner, ttl_s) for n in names]

    async def release_locks(self, names: Sequence[str], owner: str) -> list[bool]:
        """`release_lock` of each name."""
        return [await self.release_lock(n, owner) for n in names]

    async def get_lock(self, name: str) -> LockInfo | None:
        """The unexpired lock, or None."""
        owner = self._live_owner(name)
        if owner is None:
            return None
        return LockInfo(name=name, owner=owner, holder=self._lock_holders.get(name, ""),
                        expires_at=datetime.fromtimestamp(self._locks[name][1], UTC))

    async def break_lock(self, name: str, owner: str | None = None) -> LockInfo | None:
        """Delete the lock whoever holds it (only `owner`'s, if given); what was deleted."""
        info = await self.get_lock(name)
        if info is None or (owner is not None and info.owner != owner):
            return None
        del self._locks[name]
        return info

    async def release_lock(self, name: str, owner: str) -> bool:
        """Release a lock we hold."""
        if self._live_owner(name) != owner:
            return False
        del self._locks[name]
        return True

    # --- secret fingerprints --------------------------------------------------------------------------
    async def put_fingerprint(
        self, org_id: str, kind: str, key: str, fingerprint: str, rotated_at: datetime | None = None
    ) -> Fingerprint:
        """Record a fingerprint."""
        fp = make_fingerprint(org_id, kind, key, fingerprint, rotated_at)
        self._fingerprints[(org_id, kind, key)] = fp
        return fp

    async def get_fingerprint(self, org_id: str, kind: str, key: str) -> Fingerprint | None:
        """The last fingerprint."""
        return self._fingerprints.get((org_id, kind, key))

    # --- before-images (rollback) ---------------------------------------------------------------------
    async def put_run_images(self, images: Sequence[RunImage]) -> None:
        """Upsert by (run_id, kind, key) (a dict keeps the order first recorded)."""
        for img in images:
            self._images.setdefault(img.run_id, {})[(img.kind, img.key)] = img

    async def get_run_image(self, run_id: str, kind: str, key: str) -> RunImage | None:
        """One image by identity."""
        return self._images.get(run_id, {}).get((kind, key))

    async def get_run_images(self, run_id: str) -> list[RunImage]:
        """A run's images, in the order first recorded."""
        return list(self._images.get(run_id, {}).values())


def _spelling(data: dict[str, Any]) -> bytes | None:
    """`data` as orjson writes it (str, int and dict subclasses refused), or None when it will not."""
    try:
        return orjson.dumps(data, option=orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME
                            | orjson.OPT_PASSTHROUGH_DATACLASS)
    except TypeError:
        return None
