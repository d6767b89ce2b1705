"""`SqliteStore`: the default state store, one SQLite file, usable by several processes at once.

The stdlib `sqlite3` connection lives in one dedicated thread (`sqlite_thread`); every call is queued to it
and returns once its transaction is committed, so the event loop never blocks on disk and a `kill -9` after
a call returned loses nothing. Calls queued together share one transaction (group commit).
`wait_events` polls (SQLite has no notifications across processes).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from mistctl.store import sqlite_records as rec_q
from mistctl.store import sqlite_runs as run_q
from mistctl.store._common import (
    ANY_SITE,
    SiteFilter,
    StoreLifecycle,
    check_page,
    make_fingerprint,
    parse_patch,
    prepare_event,
)
from mistctl.store.errors import StoreError, StoreUnavailable
from mistctl.store.models import (
    AuditEntry,
    Event,
    Fingerprint,
    LockInfo,
    ObjRef,
    Run,
    RunImage,
    RunStatus,
    SiteState,
    SiteStatus,
    StepRecord,
)
from mistctl.store.sle_history import SqliteSleHistory
from mistctl.store.sqlite_thread import SqliteThread

POLL_INTERVAL_S = 0.05
_T = TypeVar("_T")


class SqliteStore(SqliteSleHistory, StoreLifecycle):
    """The `StateStore` port on a SQLite file (created with its parent directories when missing)."""

    def __init__(
        self, path: str | Path, *, busy_timeout_s: float = 10.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path)
        self._busy_timeout_s = busy_timeout_s
        self._clock = clock
        self._thread = SqliteThread(self.path, busy_timeout_s)  # opened in its thread, where every query runs
        self._closed = False

    def __repr__(self) -> str:
        return f"SqliteStore(path={str(self.path)!r})"

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        if self._closed:
            raise StoreError(f"the state store {self.path} is closed")
        try:
            return await self._thread.call(fn, *args)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(
                f"state file {self.path}: {exc} (another mistctl process kept it busy for more than "
                f"{self._busy_timeout_s:g}s); retry, or check the disk"
            ) from None

    async def close(self) -> None:
        """Close the connection and stop the thread."""
        if self._closed:
            return
        self._closed = True
        await self._thread.close()

    async def ping(self) -> None:
        """Run a trivial query."""
        await self._call(lambda conn: conn.execute("SELECT 1").fetchone())

    # --- runs -----------------------------------------------------------------------------------------
    async def create_run(self, run: Run) -> Run:
        """Persist a new run."""
        await self._call(run_q.insert_run, run)
        return run

    async def get_run(self, run_id: str, *, include_plan: bool = True) -> Run | None:
        """The run (its plan left out unless `include_plan`), or None."""
        return await self._call(run_q.load_run, run_id, include_plan)

    async def update_run(self, run_id: str, **changes: Any) -> Run:
        """Set the given fields only."""
        return await self._call(run_q.patch_run, run_id, parse_patch(run_id, changes))

    async def incr_run_counts(self, run_id: str, deltas: Mapping[str, int]) -> dict[str, int]:
        """Add deltas to the run's counters."""
        return await self._call(run_q.incr_counts, run_id, dict(deltas))

    async def list_runs(
        self, limit: int = 50, status: RunStatus | None = None, *, include_plan: bool = False
    ) -> list[Run]:
        """Newest first."""
        check_page(limit)
        return await self._call(run_q.list_runs, limit, status, include_plan)

    async def request_cancel(self, run_id: str) -> Run:
        """Flag the run for cancellation."""
        return await self.update_run(run_id, cancel_requested=True)

    # --- step records ---------------------------------------------------------------------------------
    async def record_step(self, rec: StepRecord) -> None:
        """Upsert by identity."""
        await self._call(rec_q.upsert_steps, (rec,))

    async def record_steps(self, recs: Sequence[StepRecord]) -> None:
        """Upsert many in one transaction."""
        await self._call(rec_q.upsert_steps, list(recs))

    async def get_steps(
        self, org_id: str, *, site: SiteFilter = ANY_SITE, run_id: str | None = None
    ) -> list[StepRecord]:
        """Records of the org, filtered, in identity order."""
        return await self._call(rec_q.select_steps, org_id, site, run_id)

    async def get_step(
        self, org_id: str, site: str | None, step: int, kind: str, key: str
    ) -> StepRecord | None:
        """One record by identity."""
        return await self._call(rec_q.select_step, org_id, site, step, kind, key)

    async def record_done(self, rec: StepRecord, ref: ObjRef, audit: Sequence[AuditEntry], *,
                          images: Sequence[RunImage] = (), state: SiteState | None = None) -> None:
        """The step's record, its object's id, its audit entries, the images and the site's state, in one
        transaction."""
        await self._call(rec_q.record_done, rec, ref, list(audit), list(images), state)

    # --- object map -----------------------------------------------------------------------------------
    async def put_object(
        self, org_id: str, kind: str, key: str, mist_id: str, applied_hash: str | None = None,
        owner: str | None = None,
    ) -> ObjRef:
        """Remember a Mist id (and its owner; None keeps the one recorded)."""
        ref = ObjRef(org_id=org_id, kind=kind, key=key, mist_id=mist_id, applied_hash=applied_hash, owner=owner)
        return await self._call(rec_q.upsert_object, ref)

    async def get_objects(self, org_id: str, kind: str) -> dict[str, ObjRef]:
        """Known objects of a kind."""
        return await self._call(rec_q.select_objects, org_id, kind)

    async def delete_object(self, org_id: str, kind: str, key: str) -> bool:
        """Forget a key."""
        return await self._call(rec_q.delete_object, org_id, kind, key)

    # --- site states ----------------------------------------------------------------------------------
    async def put_site_state(self, state: SiteState) -> None:
        """Upsert by (org_id, name)."""
        await self._call(rec_q.upsert_sites, (state,))

    async def put_site_states(self, states: Sequence[SiteState]) -> None:
        """Upsert many in one transaction."""
        await self._call(rec_q.upsert_sites, list(states))

    async def get_site_state(self, org_id: str | None, name: str) -> SiteState | None:
        """A site's state."""
        return await self._call(rec_q.select_site, org_id, name)

    async def list_site_states(
        self,
        org_id: str | None = None,
        status: SiteStatus | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[SiteState]:
        """A page ordered by (org_id, name)."""
        check_page(limit, offset)
        return await self._call(rec_q.select_sites, org_id, status, offset, limit)

    async def count_site_states_by_status(self, org_id: str | None = None) -> dict[str, int]:
        """Sites per status."""
        return await self._call(rec_q.count_sites, org_id)

    # --- audit log ------------------------------------------------------------------------------------
    async def append_audit(self, entry: AuditEntry) -> None:
        """Append one entry."""
        await self._call(rec_q.insert_audit, (entry,))

    async def append_audit_batch(self, entries: Sequence[AuditEntry]) -> None:
        """Append many in one transaction."""
        await self._call(rec_q.insert_audit, list(entries))

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
        """A page of entries (`kind` and `name` read from the bodies by SQLite, without parsing them here)."""
        check_page(limit, offset)
        return await self._call(rec_q.select_audit, (run_id, site, kind, name), (limit, offset), newest_first)

    # --- events ---------------------------------------------------------------------------------------
    async def publish_event(self, run_id: str, event: Mapping[str, Any]) -> int:
        """Append an event; its sequence number."""
        return await self._call(run_q.insert_event, run_id, prepare_event(run_id, event))

    async def events_since(self, run_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        """Events after `after_seq`."""
        check_page(limit)
        return await self._call(run_q.select_events, run_id, after_seq, limit)

    async def wait_events(
        self, run_id: str, after_seq: int = 0, timeout: float = 15.0, limit: int = 1000
    ) -> list[Event]:
        """Poll for events after `after_seq` until some arrive or `timeout` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0)
        while True:
            events = await self.events_since(run_id, after_seq, limit)
            remaining = deadline - loop.time()
            if events or remaining <= 0:
                return events
            await asyncio.sleep(min(POLL_INTERVAL_S, remaining))

    # --- locks ----------------------------------------------------------------------------------------
    async def acquire_lock(self, name: str, owner: str, ttl_s: float, *, holder: str = "") -> bool:
        """Take (or extend our own) lock."""
        return await self._call(run_q.acquire_lock, name, owner, self._clock(), ttl_s, holder)

    async def refresh_lock(self, name: str, owner: str, ttl_s: float) -> bool:
        """Extend a lock we hold."""
        return await self._call(run_q.refresh_lock, name, owner, self._clock(), ttl_s)

    async def release_lock(self, name: str, owner: str) -> bool:
        """Release a lock we hold."""
        return await self._call(run_q.release_lock, name, owner, self._clock())

    async def acquire_locks(self, names: Sequence[str], owner: str, ttl_s: float, *,
                            holder: str = "") -> list[bool]:
        """`acquire_lock` of each name, in one transaction."""
        return await self._call(run_q.acquire_locks, list(names), owner, self._clock(), ttl_s, holder)

    async def refresh_locks(self, names: Sequence[str], owner: str, ttl_s: float) -> list[bool]:
        """`refresh_lock` of each name, in one transaction."""
        return await self._call(run_q.refresh_locks, list(names), owner, self._clock(), ttl_s)

    async def release_locks(self, names: Sequence[str], owner: str) -> list[bool]:
        """`release_lock` of each name, in one transaction."""
        return await self._call(run_q.release_locks, list(names), owner, self._clock())

    async def get_lock(self, name: str) -> LockInfo | None:
        """The unexpired lock, or None."""
        return await self._call(run_q.select_lock, name, self._clock())

    async def break_lock(self, name: str, owner: str | None = None) -> LockInfo | None:
        """Delete the lock whoever holds it (only `owner`'s, if given); what was deleted."""
        return await self._call(run_q.break_lock, name, owner, self._clock())

    # --- secret fingerprints --------------------------------------------------------------------------
    async def put_fingerprint(
        self, org_id: str, kind: str, key: str, fingerprint: str, rotated_at: datetime | None = None
    ) -> Fingerprint:
        """Record a fingerprint."""
        fp = make_fingerprint(org_id, kind, key, fingerprint, rotated_at)
        await self._call(rec_q.upsert_fingerprint, fp)
        return fp

    async def get_fingerprint(self, org_id: str, kind: str, key: str) -> Fingerprint | None:
        """The last fingerprint."""
        return await self._call(rec_q.select_fingerprint, org_id, kind, key)

    # --- before-images (rollback) ---------------------------------------------------------------------
    async def put_run_images(self, images: Sequence[RunImage]) -> None:
        """Upsert by (run_id, kind, key), in one transaction."""
        await self._call(rec_q.upsert_images, list(images))

    async def get_run_image(self, run_id: str, kind: str, key: str) -> RunImage | None:
        """One image by identity."""
        return await self._call(rec_q.select_image, run_id, kind, key)

    async def get_run_images(self, run_id: str) -> list[RunImage]:
        """A run's images, in the order first recorded."""
        return await self._call(rec_q.select_images, run_id)
