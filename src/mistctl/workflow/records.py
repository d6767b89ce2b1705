"""The workflow's bookkeeping in the state store: step records, site states, run counters, events, audit.

One small facade so the runner says what happened in its own words (`step_done`, `site_status`) and
the store's record shapes stay in one place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from mistctl.store.models import AuditEntry, ObjRef, RunImage, SiteState, StepRecord
from mistctl.store.port import StateStore

VARS_KIND = "site_vars"
CANCEL_POLL_S = 1.0


class AuditSource(Protocol):
    """Where the writes to audit come from (the call ledger fed by the client's hook)."""

    def drain_audit(self, scope: tuple[str | None, str, str] | None = None) -> list[dict[str, Any]]: ...


class Records:
    """Records of one run against one org."""

    def __init__(self, store: StateStore, org_id: str, run_id: str, *, actor: str = "cli",
                 ledger: AuditSource | None = None, owner: str | None = None) -> None:
        self.store = store
        self.owner = owner  # recorded with every object written (`domain.owners`); None keeps the recorded one
        self.org_id = org_id
        self.run_id = run_id
        self.actor = actor
        self.ledger = ledger
        self._cancel = False
        self._cancel_checked = -CANCEL_POLL_S
        self.halted: Callable[[], bool] | None = None  # True: start no more sites (`workflow.lock_gate`)
        #: the run's before-images, when this process recorded them (`run_images.ImageBook`); None: read them
        self.images: dict[tuple[str, str], RunImage] | None = None

    async def vars_hashes(self, org_id: str) -> dict[str, tuple[str, str]]:
        """Site name -> (Mist site id, hash of the variables mistctl last wrote there)."""
        steps = await self.store.get_steps(org_id)
        return {
            str(r.site): (str(r.mist_id), str(r.applied_hash))
            for r in steps
            if r.kind == VARS_KIND and r.status == "done" and r.site and r.applied_hash
        }

    async def step_done(self, site: str | None, step: int, kind: str, key: str, mist_id: str,
                        applied_hash: str, *, written: dict[str, Any] | None = None,
                        site_done: dict[str, Any] | None = None) -> None:
        """A change was made (or found made): remember its id and what was applied.

        `written`: Mist's answer to the write that made it (`wrote`), its before-image updated in the same
        store write when this process holds the run's images; `site_done`: the site's last step, so its
        state becomes "done" in the same write (its place as `site_status` takes it)."""
        rec = StepRecord(run_id=self.run_id, org_id=self.org_id, site=site, step=step, kind=kind, key=key,
                         status="done", mist_id=mist_id, applied_hash=applied_hash)
        ref = ObjRef(org_id=self.org_id, kind=kind, key=key, mist_id=mist_id, applied_hash=applied_hash,
                     owner=self.owner)
        images = [] if written is None else await self._written_images(kind, key, written)
        state = None if site_done is None else self._site_state(key, "done", site_id=mist_id, **site_done)
        await self.store.record_done(rec, ref, self._drain((site, kind, key), mist_id), images=images,
                                     state=state)  # one write
        if self.images is not None:
            self.images.update({(i.kind, i.key): i for i in images})

    async def _written_images(self, kind: str, key: str, obj: dict[str, Any]) -> list[RunImage]:
        """The written object's before-image, to store with its step ([] when the run imaged none); when this
        process does not hold the run's images, `wrote` reads and writes it on its own first."""
        from mistctl.workflow.run_images import written_image

        if self.images is None:
            await self.wrote(kind, key, obj)
            return []
        image = self.images.get((kind, key))
        return [] if image is None else [written_image(image, obj)]

    async def wrote(self, kind: str, key: str, obj: dict[str, Any]) -> None:
        """A create or update was made: its before-image learns the id and Mist's `modified_time`."""
        from mistctl.workflow.run_images import mark_written

        await mark_written(self.store, self.run_id, kind, key, obj, self.images)

    async def flush_audit(self, scope: tuple[str | None, str, str] | None = None,
                          mist_id: str | None = None) -> None:
        """Write the audit entries of the writes made since the last flush (no bodies, no secrets).

        With a scope, only that object's writes (they made `mist_id`); without, all that are left.
        """
        entries = self._drain(scope, mist_id)
        if entries:
            await self.store.append_audit_batch(entries)

    def _drain(self, scope: tuple[str | None, str, str] | None, mist_id: str | None) -> list[AuditEntry]:
        if self.ledger is None:
            return []
        return [AuditEntry(run_id=self.run_id, actor=self.actor, mist_id=mist_id, **e)
                for e in self.ledger.drain_audit(scope)]

    async def step_failed(self, site: str | None, step: int, kind: str, key: str, error: str) -> None:
        await self.store.record_step(StepRecord(
            run_id=self.run_id, org_id=self.org_id, site=site, step=step, kind=kind, key=key,
            status="failed", error=error,
        ))

    async def site_status(self, name: str, status: str, *, site_id: str | None = None,
                          failed_step: int | None = None, error: str | None = None,
                          zone: int | None = None, number: int | None = None,
                          ip_plan: dict[str, Any] | None = None, zone_name: str | None = None,
                          latlng: Sequence[float] | None = None) -> None:
        await self.store.put_site_state(self._site_state(
            name, status, site_id=site_id, failed_step=failed_step, error=error, zone=zone, number=number,
            ip_plan=ip_plan, zone_name=zone_name, latlng=latlng))

    def _site_state(self, name: str, status: str, *, site_id: str | None = None, failed_step: int | None = None,
                    error: str | None = None, zone: int | None = None, number: int | None = None,
                    ip_plan: dict[str, Any] | None = None, zone_name: str | None = None,
                    latlng: Sequence[float] | None = None) -> SiteState:
        return SiteState(
            org_id=self.org_id, name=name, status=status,
            site_id=site_id, last_run_id=self.run_id, failed_step=failed_step, error=error,
            zone=str(zone) if zone else None, number=number or None,  # 0: a plan-less site has no place
            ip_plan=ip_plan if zone and number else None, zone_name=zone_name if zone else None,
            latlng=(latlng[0], latlng[1]) if latlng else None,
        )

    async def count(self, delta: dict[str, int]) -> dict[str, int]:
        """Add to the run's counters atomically; the new counts."""
        return await self.store.incr_run_counts(self.run_id, delta)

    async def event(self, event: dict[str, Any]) -> None:
        await self.store.publish_event(self.run_id, event)

    async def cancelled(self) -> bool:
        """Whether someone asked to cancel the run (read from the store at most once a second), or the run
        must start no more sites (`halted`: it lost its org lock)."""
        if self.halted is not None and self.halted():
            return True
        now = time.monotonic()
        if now - self._cancel_checked >= CANCEL_POLL_S:
            self._cancel_checked = now
            run = await self.store.get_run(self.run_id, include_plan=False)
            self._cancel = bool(run and run.cancel_requested)
        return self._cancel
