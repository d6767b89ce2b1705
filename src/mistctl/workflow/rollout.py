"""Canary firmware rollouts gated on SLEs: upgrade a wave, wait, soak, compare, then promote or halt.

Per wave: a baseline of the wave's sites' SLEs (the families its device types serve); the upgrades
(`rollout_io`); the wait for completion within a budget; the soak; the SLEs again. A wave whose
devices failed to upgrade, or whose sites end below the threshold or more than `max_drop` below their
baseline, halts the rollout: later waves are never touched. Sites already running the version are
checked against the threshold before any upgrade, so a re-run after a halt does not push on.

Resumable: devices already on the version are skipped (their stats are read first), and each device's
upgrade is a step record (kind `firmware`, key its MAC, `applied_hash` the version) of an `upgrade` run.
Calls: the site list, one device-stats list per site, one versions list per model, then per wave two
SLE calls per family, one upgrade call per whole site or per device, one poll call per site.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mistctl.errors import UserError
from mistctl.mist.models_day2 import FAMILY_OF_DEVICE_TYPE, mist_device_id
from mistctl.store.models import Run, StepRecord, StepStatus, utcnow
from mistctl.store.port import StateStore
from mistctl.workflow.assure import (
    DEFAULT_THRESHOLD,
    HealthReport,
    SleApi,
    check_health,
    metrics_wanted,
    mist_duration,
    record_health,
)
from mistctl.workflow.ports import Progress
from mistctl.workflow.records import AuditSource, Records
from mistctl.workflow.rollout_gate import Gate, compare, gate_reason
from mistctl.workflow.rollout_io import FirmwareApi, Polling, Sleep, start_wave, wait_wave
from mistctl.workflow.rollout_plan import DEFAULT_WAVES, DEVICE_TYPES, By, Target, Wave, parse_waves, plan_waves
from mistctl.workflow.rollout_report import DeviceReport, RolloutReport

FIRMWARE_KIND = "firmware"
FIRMWARE_STEP = 2  # the devices step: a rollout changes what runs on the devices


class _RolloutRecords(Records):
    """Records whose events also reach a progress sink (the CLI's lines during a long rollout)."""

    def __init__(self, *args: Any, progress: Progress | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.progress = progress

    async def event(self, event: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress(event)
        await super().event(event)


class RolloutApi(FirmwareApi, SleApi, Protocol):
    """What a rollout calls: firmware, device stats, SLEs, and the org's sites."""

    async def list_org(self, org_id: str, collection: str, **query: Any) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class RolloutOptions:
    """What to roll out, where, and how carefully."""

    version: str
    device_type: str | None = None
    waves: str = DEFAULT_WAVES
    by: By = "device"
    soak: float = 600.0
    threshold: float = DEFAULT_THRESHOLD
    max_drop: float = 0.05
    polling: Polling = field(default_factory=Polling)
    dry_run: bool = False
    concurrency: int = 8

    def check(self) -> None:
        """`UserError` for options that cannot make a rollout."""
        if self.version.lower() in ("stable", "latest", ""):
            raise UserError("name the exact firmware version (mistctl skips devices already on it); "
                            "GET /sites/{site_id}/devices/versions lists them")
        if self.device_type is not None and self.device_type not in DEVICE_TYPES:
            raise UserError(f"device type {self.device_type!r}: choose one of {', '.join(DEVICE_TYPES)}")
        if self.by not in ("device", "site"):
            raise UserError(f"--by {self.by!r}: choose device or site")
        try:
            parse_waves(self.waves)
        except ValueError as exc:
            raise UserError(str(exc)) from None


async def prepare(mist: RolloutApi, org_id: str, site_names: Sequence[str], opts: RolloutOptions) -> RolloutReport:
    """Read the sites' devices, skip those on the version, check it exists, and cut the waves."""
    opts.check()
    live = {str(s.get("name")): str(s["id"]) for s in await mist.list_org(org_id, "sites")}
    report = RolloutReport(org_id, opts.version, missing_sites=[n for n in site_names if n not in live])
    sites = {n: live[n] for n in site_names if n in live}
    targets = await _targets(mist, sites, opts)
    for t in targets:
        status = "already" if t.version == opts.version else "planned"
        report.devices[t.mac] = DeviceReport(t, status, after=t.version if status == "already" else None)
    pending = [t for t in targets if t.version != opts.version]
    await _check_available(mist, pending, opts.version)
    report.waves = plan_waves(pending, parse_waves(opts.waves), opts.by)
    for wave in report.waves:
        for t in wave.targets:
            report.devices[t.mac].wave = wave.number
    for d in report.devices.values():
        if d.status == "planned" and d.wave is None:
            d.status, d.why = "untouched", "beyond the last wave"
    return report


async def _targets(mist: RolloutApi, sites: Mapping[str, str], opts: RolloutOptions) -> list[Target]:
    gate = asyncio.Semaphore(opts.concurrency)

    async def one(name: str, site_id: str) -> list[Target]:
        async with gate:
            stats = await mist.list_site_device_stats(site_id, opts.device_type or "all")
        return [Target(str(s.mac).lower(), s.id or mist_device_id(str(s.mac)), name, site_id, s.type,
                       s.model or "", s.name or "", s.version)
                for s in stats if s.mac and s.type in DEVICE_TYPES
                and (opts.device_type is None or s.type == opts.device_type)]

    found = await asyncio.gather(*(one(n, i) for n, i in sites.items()))
    return [t for ts in found for t in ts]


async def _check_available(mist: RolloutApi, pending: list[Target], version: str) -> None:
    """Refuse a version some models cannot run, before anything is upgraded."""
    models: dict[tuple[str, str], str] = {}
    for t in pending:
        models.setdefault((t.type, t.model), t.site_id)
    missing = []
    for (kind, model), site_id in sorted(models.items()):
        offered = await mist.list_site_device_versions(site_id, kind, model=model or None)
        if not any(v.version == version for v in offered):
            missing.append(model or kind)
    if missing:
        raise UserError(f"version {version} is not offered for {', '.join(missing)}; "
                        "check the version (GET /sites/{site_id}/devices/versions) or narrow --device-type")


async def run_rollout(mist: RolloutApi, store: StateStore, org_id: str, site_names: Sequence[str],
                      opts: RolloutOptions, *, ledger: AuditSource | None, actor: str = "cli",
                      sleep: Sleep = asyncio.sleep, run: Run | None = None,
                      progress: Progress | None = None) -> RolloutReport:
    """Prepare, then (unless a dry run) roll the waves out under an `upgrade` run, halting on a bad gate."""
    if run is not None:
        await store.update_run(run.id, status="running", started_at=utcnow())
    try:
        report = await prepare(mist, org_id, site_names, opts)
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
        await _roll(mist, records, report, opts, sleep)
    finally:
        await records.flush_audit()
        await store.update_run(run.id, status="completed" if report.status == "completed" else "failed",
                               finished_at=utcnow(), error=report.reason,
                               plan={**_plan_of(opts), "report": report.to_json()})
        await store.incr_run_counts(run.id, {"upgraded": report.count("upgraded"),
                                             "failed": report.count("failed") + report.count("timeout")})
    return report


def _plan_of(opts: RolloutOptions) -> dict[str, Any]:
    return {"version": opts.version, "device_type": opts.device_type, "waves": opts.waves, "by": opts.by,
            "soak_seconds": opts.soak, "threshold": opts.threshold, "max_drop": opts.max_drop}


async def _roll(mist: RolloutApi, records: Records, report: RolloutReport, opts: RolloutOptions,
                sleep: Sleep) -> None:
    if report.waves and not await _resume_gate(mist, records, report, opts):
        return
    for wave in report.waves:
        if not await _wave(mist, records, report, wave, opts, sleep):
            for later in report.waves[wave.number:]:
                for t in later.targets:
                    report.devices[t.mac].status = "untouched"
                    report.devices[t.mac].why = f"the rollout halted at wave {wave.number}"
            await records.event({"type": "rollout_halted", "wave": wave.number, "reason": report.reason})
            return
        report.waves_done = wave.number
        await records.event({"type": "wave_promoted", "wave": wave.number})


async def _resume_gate(mist: RolloutApi, records: Records, report: RolloutReport, opts: RolloutOptions) -> bool:
    """Sites already running the version must be healthy before more devices get it."""
    running = [d.target for d in report.devices.values() if d.status == "already"]
    if not running:
        return True
    families = {FAMILY_OF_DEVICE_TYPE[t.type] for t in running}
    sites = {t.site: t.site_id for t in running}
    health = await check_health(mist, records.org_id, sites, threshold=opts.threshold,
                                metrics=metrics_wanted(families=families))
    gate = compare(0, None, health, opts.max_drop)
    report.gates.append(gate)
    if gate.failing:
        report.status, report.reason = "halted", gate_reason(gate, opts.version, resumed=True)
        return False
    return True


async def _wave(mist: RolloutApi, records: Records, report: RolloutReport, wave: Wave, opts: RolloutOptions,
                sleep: Sleep) -> bool:
    """Baseline, upgrade, wait, soak, gate: True to promote to the next wave."""
    metrics = metrics_wanted(families={FAMILY_OF_DEVICE_TYPE[t.type] for t in wave.targets})
    sites = {t.site: t.site_id for t in wave.targets}
    baseline = await check_health(mist, records.org_id, sites, threshold=opts.threshold, metrics=metrics,
                                  duration=mist_duration(opts.soak))
    if baseline.failed:
        report.gates.append(compare(wave.number, None, baseline, opts.max_drop))
        report.status = "halted"
        report.reason = gate_reason(report.gates[-1], opts.version, before=True)
        return False
    if not await _upgrade(mist, records, report, wave, opts, sleep):
        return False
    await sleep(opts.soak)
    after = await check_health(mist, records.org_id, sites, threshold=opts.threshold, metrics=metrics,
                               duration=mist_duration(opts.soak))
    gate = compare(wave.number, baseline, after, opts.max_drop)
    report.gates.append(gate)
    await _record_sites(records, after, gate)
    if gate.failing:
        report.status, report.reason = "halted", gate_reason(gate, opts.version)
        return False
    return True


async def _upgrade(mist: RolloutApi, records: Records, report: RolloutReport, wave: Wave, opts: RolloutOptions,
                   sleep: Sleep) -> bool:
    """Start the wave's upgrades and wait for them; each device's step record follows its outcome."""
    await records.event({"type": "wave_started", "wave": wave.number, "devices": len(wave.targets)})
    await records.store.record_steps([_step(records, t, opts.version, "running") for t in wave.targets])
    started = await start_wave(mist, wave, opts.version, concurrency=opts.concurrency)
    results = await wait_wave(mist, started, opts.version, polling=opts.polling, sleep=sleep)
    upgraded = sum(status == "upgraded" for status, _why in results.values())
    await records.event({"type": "wave_upgraded", "wave": wave.number, "upgraded": upgraded,
                         "devices": len(wave.targets), "soak_seconds": opts.soak})
    ok = _record_results(report, wave, results, opts.version)
    await records.store.record_steps([_step(records, t, opts.version, *_outcome(report, t))
                                      for t in wave.targets])
    return ok


def _record_results(report: RolloutReport, wave: Wave, results: Mapping[str, tuple[str, str | None]],
                    version: str) -> bool:
    """Note each device's result; False (and the halt reason) when any failed or timed out."""
    bad = []
    for t in wave.targets:
        status, why = results.get(t.mac, ("failed", "no result"))
        device = report.devices[t.mac]
        device.status, device.why = status, why
        device.after = version if status == "upgraded" else t.version
        if status != "upgraded":
            bad.append(f"{t.name or t.mac} at {t.site} ({why})")
    if bad:
        report.status = "halted"
        report.reason = f"wave {wave.number}: {len(bad)} device(s) not upgraded to {version}: " + "; ".join(bad[:5])
    return not bad


def _outcome(report: RolloutReport, t: Target) -> tuple[StepStatus, str | None]:
    d = report.devices[t.mac]
    return ("done", None) if d.status == "upgraded" else ("failed", d.why)


def _step(records: Records, t: Target, version: str, status: StepStatus, why: str | None = None) -> StepRecord:
    return StepRecord(run_id=records.run_id, org_id=records.org_id, site=t.site, step=FIRMWARE_STEP,
                      kind=FIRMWARE_KIND, key=t.mac, status=status, mist_id=t.device_id, applied_hash=version,
                      error=why)


async def _record_sites(records: Records, after: HealthReport, gate: Gate) -> None:
    """The wave's sites in the state store: `sle_failed` for those the gate failed (drops included)."""
    for site in after.sites:
        site.failing = {m: float(v["after"] or 0.0) for m, v in gate.failing.get(site.name, {}).items()}
    await record_health(records.store, after, run_id=records.run_id)
