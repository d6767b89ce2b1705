"""The state store port: what the workflow engine, the CLI, the API and workers may ask of the store.

Adapters: `SqliteStore` (default, one file, several processes), `RedisStore` (workers), `MemoryStore`
(unit tests). Every write is durable when the call returns (SQLite: committed; Redis: acknowledged).
Resume works on the step identity (org_id, site, step, kind, key), not on the run id: a new run after a
crash reads what the crashed run recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from mistctl.store._common import ANY_SITE, SiteFilter
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
    SleCheck,
    StepRecord,
)


@runtime_checkable
class StateStore(Protocol):
    """Runs, step records, object map, site states, audit log, events, locks and secret fingerprints."""

    async def close(self) -> None:
        """Release connections and threads; the store is unusable afterwards."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def ping(self) -> None:
        """Raise `StoreUnavailable` when the backend cannot be reached (for health checks)."""

    # --- runs -----------------------------------------------------------------------------------------
    async def create_run(self, run: Run) -> Run:
        """Persist a new run (its plan redacted); `RecordRejected` if the id exists."""

    async def get_run(self, run_id: str, *, include_plan: bool = True) -> Run | None:
        """The run with its counts (and its plan, unless `include_plan=False`: `{}`), or None."""

    async def update_run(self, run_id: str, **changes: Any) -> Run:
        """Set the given `RunPatch` fields only (others untouched); `RecordNotFound` if missing. Returns the run
        as `get_run(include_plan=False)` does, its plan `{}`: a heartbeat or a status (every few seconds, on a
        run whose plan is megabytes) neither reads nor rewrites the plan; `get_run` reads it."""

    async def incr_run_counts(self, run_id: str, deltas: Mapping[str, int]) -> dict[str, int]:
        """Add `deltas` to the run's counters atomically (safe across workers); the new counts."""

    async def list_runs(
        self, limit: int = 50, status: RunStatus | None = None, *, include_plan: bool = False
    ) -> list[Run]:
        """Newest first; plans are left empty ({}) unless `include_plan`."""

    async def request_cancel(self, run_id: str) -> Run:
        """Flag the run for cancellation (the engine polls `cancel_requested`)."""

    # --- step records ---------------------------------------------------------------------------------
    async def record_step(self, rec: StepRecord) -> None:
        """Upsert by (org_id, site, step, kind, key)."""

    async def record_steps(self, recs: Sequence[StepRecord]) -> None:
        """`record_step` for many records in one write."""

    async def record_done(self, rec: StepRecord, ref: ObjRef, audit: Sequence[AuditEntry], *,
                          images: Sequence[RunImage] = (), state: SiteState | None = None) -> None:
        """A step done, in one write where the store can: `record_step(rec)`, `put_object` of `ref`,
        `append_audit_batch(audit)`, then `put_run_images(images)` (the written object's before-image) and
        `put_site_state(state)` (the site's last step: it is done) when given (apply calls it once per
        change it made)."""

    async def get_steps(
        self, org_id: str, *, site: SiteFilter = ANY_SITE, run_id: str | None = None
    ) -> list[StepRecord]:
        """Records of one site, of the org level (site=None) or all; ordered by site, step, kind, key."""

    async def get_step(
        self, org_id: str, site: str | None, step: int, kind: str, key: str
    ) -> StepRecord | None:
        """One record by its identity, or None."""

    # --- object map -----------------------------------------------------------------------------------
    async def put_object(
        self, org_id: str, kind: str, key: str, mist_id: str, applied_hash: str | None = None,
        owner: str | None = None,
    ) -> ObjRef:
        """Remember the Mist id of a natural key, and its owner (None: keep the owner recorded, if any)."""

    async def get_objects(self, org_id: str, kind: str) -> dict[str, ObjRef]:
        """Every known object of a kind, by natural key."""

    async def delete_object(self, org_id: str, kind: str, key: str) -> bool:
        """Forget a natural key; True if it was known."""

    # --- site states ----------------------------------------------------------------------------------
    async def put_site_state(self, state: SiteState) -> None:
        """Upsert by (org_id, name)."""

    async def put_site_states(self, states: Sequence[SiteState]) -> None:
        """`put_site_state` for many sites in one write."""

    async def get_site_state(self, org_id: str | None, name: str) -> SiteState | None:
        """A site's state; with org_id None, the first org (by id) that has a site of that name."""

    async def list_site_states(
        self,
        org_id: str | None = None,
        status: SiteStatus | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[SiteState]:
        """A page of site states ordered by (org_id, name)."""

    async def count_site_states_by_status(self, org_id: str | None = None) -> dict[str, int]:
        """How many sites are in each status (every status listed, zeros included)."""

    # --- audit log ------------------------------------------------------------------------------------
    async def append_audit(self, entry: AuditEntry) -> None:
        """Append one entry."""

    async def append_audit_batch(self, entries: Sequence[AuditEntry]) -> None:
        """Append entries in order, in one write."""

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
        """A page of entries in append order (or newest first); `kind` and `name` filter on the object."""

    # --- SLE checks over time ------------------------------------------------------------------------
    async def append_sle_checks(self, checks: Sequence[SleCheck]) -> None:
        """Append the checks, in order, in one write."""

    async def sle_history(
        self, org_id: str, sites: Sequence[str] | None = None, last: int = 24
    ) -> dict[str, list[SleCheck]]:
        """Each site's last `last` checks, oldest first (sites None: every site checked in the org)."""

    # --- events ---------------------------------------------------------------------------------------
    async def publish_event(self, run_id: str, event: Mapping[str, Any]) -> int:
        """Append a (redacted) event to the run's stream; its sequence number (1, 2, 3 ...)."""

    async def events_since(self, run_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        """Events with seq > after_seq, oldest first."""

    async def wait_events(
        self, run_id: str, after_seq: int = 0, timeout: float = 15.0, limit: int = 1000
    ) -> list[Event]:
        """Like `events_since`, but wait up to `timeout` seconds for one to arrive; [] on timeout."""

    # --- locks ----------------------------------------------------------------------------------------
    async def acquire_lock(self, name: str, owner: str, ttl_s: float, *, holder: str = "") -> bool:
        """Take the lock for ttl_s seconds; True if taken (or already ours, then extended).

        `holder` says who holds it (command, actor, host, pid), for the messages of those who wait."""

    async def refresh_lock(self, name: str, owner: str, ttl_s: float) -> bool:
        """Extend a lock we hold to ttl_s from now; False if it expired or is someone else's."""

    async def release_lock(self, name: str, owner: str) -> bool:
        """Release a lock we hold; False if it was not ours (or already expired)."""

    async def acquire_locks(self, names: Sequence[str], owner: str, ttl_s: float, *,
                            holder: str = "") -> list[bool]:
        """`acquire_lock` of each name, in one round trip (a run's thousands of site locks); each one's answer."""

    async def refresh_locks(self, names: Sequence[str], owner: str, ttl_s: float) -> list[bool]:
        """`refresh_lock` of each name, in one round trip; each one's answer."""

    async def release_locks(self, names: Sequence[str], owner: str) -> list[bool]:
        """`release_lock` of each name, in one round trip; each one's answer."""

    async def get_lock(self, name: str) -> LockInfo | None:
        """The unexpired lock of that name (owner, holder, expiry), or None."""

    async def break_lock(self, name: str, owner: str | None = None) -> LockInfo | None:
        """Delete the lock whoever holds it (`mistctl unlock`; only `owner`'s, if given); what was deleted."""

    # --- secret fingerprints --------------------------------------------------------------------------
    async def put_fingerprint(
        self, org_id: str, kind: str, key: str, fingerprint: str, rotated_at: datetime | None = None
    ) -> Fingerprint:
        """Record a secret's fingerprint ('sha256:<hex>'); a plain secret is refused."""

    async def get_fingerprint(self, org_id: str, kind: str, key: str) -> Fingerprint | None:
        """The last recorded fingerprint, or None."""

    # --- before-images (rollback) ---------------------------------------------------------------------
    async def put_run_images(self, images: Sequence[RunImage]) -> None:
        """Upsert by (run_id, kind, key), in one write (before-images carry no secret: redacted)."""

    async def get_run_image(self, run_id: str, kind: str, key: str) -> RunImage | None:
        """One image by its identity, or None."""

    async def get_run_images(self, run_id: str) -> list[RunImage]:
        """Every image a run recorded, in the order they were first recorded."""
