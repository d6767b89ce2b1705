"""The rollouts and PSKs pages' data, read from the state store only (no Mist calls, no passphrases).

Rollouts are the runs of kind `upgrade`: their plan holds the options and, once a rollout ended, its
report (waves, gates, devices). PSKs are those mistctl manages (the object map) or rotated (a
`psk_rotation` step record): each with its last rotation (the fingerprint's time), the grace chosen
(the rotation run's plan) and what is left of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mistctl.domain import kinds as K
from mistctl.store.models import Run, StepRecord
from mistctl.store.port import StateStore
from mistctl.workflow.psk_records import FP_KIND, ROTATION_KIND, ROTATION_STEP
from mistctl.workflow.runlock import shown_status

RUNS_SCANNED = 500


@dataclass(frozen=True)
class GateRow:
    wave: int
    before: bool
    passed: bool
    sites: int
    failing: list[str]
    no_data: list[str]


@dataclass(frozen=True)
class RolloutRow:
    """One upgrade run: its options, its waves (devices, sites) and its gates once reported."""

    run: Run
    version: str
    device_type: str
    waves: list[dict[str, Any]]
    gates: list[GateRow]
    outcome: str | None
    reason: str | None
    reported: bool


def rollout_row(run: Run) -> RolloutRow:
    plan, report = run.plan, run.plan.get("report") or {}
    gates = [GateRow(int(g.get("wave", 0)), bool(g.get("before")), bool(g.get("passed")),
                     len(g.get("sites") or []), sorted(g.get("failing") or {}), list(g.get("no_data") or []))
             for g in report.get("gates") or []]
    version = str(plan.get("version") or report.get("version") or "")
    return RolloutRow(run, version, str(plan.get("device_type") or ""), list(report.get("waves") or []), gates,
                      report.get("status"), report.get("reason"), bool(report))


async def rollouts(store: StateStore, org_id: str | None) -> tuple[list[RolloutRow], bool]:
    """The upgrade runs, newest first; True when more runs exist than were scanned."""
    runs = await store.list_runs(limit=RUNS_SCANNED, include_plan=True)
    upgrades = [r for r in runs if r.kind == "upgrade" and (org_id is None or r.org_id == org_id)]
    return [rollout_row(r) for r in await shown_status(store, upgrades)], len(runs) == RUNS_SCANNED


@dataclass
class PskRow:
    """A PSK and where its rotation stands, as mistctl recorded it."""

    name: str
    org_id: str
    mist_id: str | None = None
    managed: bool = False
    rotated_at: datetime | None = None
    state: str = "not rotated by mistctl"
    grace_seconds: float | None = None
    grace_left: float | None = None
    run_id: str | None = None
    notes: list[str] = field(default_factory=list)


async def psk_rows(store: StateStore, org_id: str | None, now: datetime) -> list[PskRow]:
    """Every PSK mistctl manages or rotated in the org (every org runs were recorded for, when None)."""
    orgs = [org_id] if org_id is not None else sorted(
        {r.org_id for r in await store.list_runs(limit=RUNS_SCANNED)})
    rows: list[PskRow] = []
    for org in orgs:
        rows += await _org_psks(store, org, now)
    return rows


async def _org_psks(store: StateStore, org_id: str, now: datetime) -> list[PskRow]:
    managed = await store.get_objects(org_id, K.PSKS.key)
    rows = {key: PskRow(key, org_id, ref.mist_id, managed=True) for key, ref in managed.items()}
    steps = [s for s in await store.get_steps(org_id, site=None)
             if s.kind == ROTATION_KIND and s.step == ROTATION_STEP]
    for step in steps:
        row = rows.setdefault(step.key, PskRow(step.key, org_id, step.mist_id))
        await _rotation(store, org_id, row, step, now)
    return sorted(rows.values(), key=lambda r: r.name)


async def _rotation(store: StateStore, org_id: str, row: PskRow, step: StepRecord, now: datetime) -> None:
    fp = await store.get_fingerprint(org_id, FP_KIND, row.name)
    run = await store.get_run(step.run_id)
    row.run_id = step.run_id
    row.rotated_at = fp.rotated_at if fp is not None else step.started_at
    row.grace_seconds = float(run.plan.get("grace_seconds", 0.0)) if run is not None else None
    if step.status == "done":
        row.state = "finished: the old passphrase was removed"
        return
    if row.rotated_at is None or row.grace_seconds is None:
        row.state = "rotated: the old passphrase is kept (grace unknown)"
        return
    row.grace_left = row.rotated_at.timestamp() + row.grace_seconds - now.timestamp()
    row.state = ("rotated: the old passphrase is kept" if row.grace_left > 0 else
                 "grace over: finish the rotation to remove the old passphrase")
