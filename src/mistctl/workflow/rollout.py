"""Canary firmware rollouts gated on SLEs: upgrade a wave, wait, soak, compare, then promote or halt.

Per wave (`rollout_waves`): a baseline of the wave's sites' SLEs (the families its device types serve);
the upgrades (`rollout_io`); the wait within a budget; a soak of at least one SLE interval; the SLEs
again. A wave whose devices failed to upgrade, or whose sites end below the threshold or more than
`max_drop` below their baseline, halts the rollout: later waves are never touched, and the halted
wave's upgraded devices are put back on the version each ran before (`rollout_back`; `rollback=False`
leaves them). A wave whose sites have no SLE data after the soak holds: nothing to judge it by.

Resumable: devices already on the version are skipped (their stats are read first), an upgrade found
under way is waited for, not sent again, and every device's version before and each upgrade call are
in the store before the call leaves (`rollout_journal`). `rollback_of`: roll a finished or halted run's
devices back to their versions before it, in waves, gated the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from mistctl.store.models import Run, utcnow
from mistctl.store.port import StateStore
from mistctl.workflow.ports import Progress
from mistctl.workflow.records import AuditSource, Records
from mistctl.workflow.rollout_back import prepare_rollback
from mistctl.workflow.rollout_io import Sleep
from mistctl.workflow.rollout_prep import RolloutApi, RolloutOptions, prepare
from mistctl.workflow.rollout_report import RolloutReport
from mistctl.workflow.rollout_waves import roll

__all__ = ["RolloutApi", "RolloutOptions", "prepare", "run_rollout"]


class _RolloutRecords(Records):
    """Records whose events also reach a progress sink (the CLI's lines during a long rollout)."""

    def __init__(self, *args: Any, progress: Progress | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.progress = progress

    async def event(self, event: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress(event)
        await super().event(event)


async def run_rollout(mist: RolloutApi, store: StateStore, org_id: str, site_names: Sequence[str],
                      opts: RolloutOptions, *, ledger: AuditSource | None, actor: str = "cli",
                      sleep: Sleep = asyncio.sleep, run: Run | None = None,
                      progress: Progress | None = None) -> RolloutReport:
    """Prepare, then (unless a dry run) roll the waves out under an `upgrade` run, halting on a bad gate."""
    if run is not None:
        await store.update_run(run.id, status="running", started_at=utcnow())
    try:
        report = await (prepare_rollback(mist, store, org_id, site_names, opts) if opts.rollback_of
                        else prepare(mist, org_id, site_names, opts))
    except BaseException as exc:
        if run is not None:
            await store.update_run(run.id, status="failed", finished_at=utcnow(), error=str(exc)[:500])
        raise
    if opts.dry_run:
        report.status = "dry-run"
        return report
    run = run or await store.create_run(Run(kind="upgrade", org_id=org_id, status="running", started_at=utcnow(),
                                            requested_by=actor, plan=_plan_of(opts)))
    report.run_id = run.id
    records = _RolloutRecords(store, org_id, run.id, actor=actor, ledger=ledger, progress=progress)
    try:
        await roll(mist, records, report, opts, sleep)
    finally:
        await records.flush_audit()
        await store.update_run(run.id, status="completed" if report.status == "completed" else "failed",
                               finished_at=utcnow(), error=report.reason,
                               plan={**_plan_of(opts), "report": report.to_json()})
        await store.incr_run_counts(run.id, {"upgraded": report.count("upgraded"),
                                             "failed": report.count("failed") + report.count("timeout"),
                                             "rolled_back": report.count("rolled-back")})
    return report


def _plan_of(opts: RolloutOptions) -> dict[str, Any]:
    return {"version": opts.version, "device_type": opts.device_type, "waves": opts.waves, "by": opts.by,
            "soak_seconds": opts.soak, "threshold": opts.threshold, "max_drop": opts.max_drop,
            "rollback_of": opts.rollback_of}
