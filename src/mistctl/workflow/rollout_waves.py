"""Rolling the waves: pre-gate, upgrade, wait, soak (at least one SLE interval), gate; promote, halt
(and put the wave back), or hold when the wave's sites have no SLE data to judge it by."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from mistctl.mist.models_day2 import FAMILY_OF_DEVICE_TYPE
from mistctl.workflow.assure import (
    HealthReport,
    check_health,
    metrics_wanted,
    mist_duration,
    record_health,
    sle_interval,
)
from mistctl.workflow.records import Records
from mistctl.workflow.rollout_back import roll_back_wave
from mistctl.workflow.rollout_gate import Gate, compare, degraded_by_others, gate_reason
from mistctl.workflow.rollout_io import Sleep, start_wave, wait_wave
from mistctl.workflow.rollout_journal import FIRMWARE_KIND, Journal
from mistctl.workflow.rollout_plan import Target, Wave
from mistctl.workflow.rollout_prep import RolloutApi, RolloutOptions
from mistctl.workflow.rollout_report import RolloutReport

Outcome = Literal["promoted", "halted", "held"]
Own = dict[str, set[str]]  # site -> SLE families served there by devices mistctl put on their version


async def roll(mist: RolloutApi, records: Records, report: RolloutReport, opts: RolloutOptions,
               sleep: Sleep) -> None:
    """Every wave in turn; on a halt, later waves are left untouched and the halted wave put back."""
    journal = Journal(records)
    steps = {r.key: r.applied_hash for r in await records.store.get_steps(records.org_id)
             if r.kind == FIRMWARE_KIND and r.status == "done"}
    own = own_families(report, steps)
    if not report.waves:
        return
    installed = {mac for mac, version in steps.items() if version == opts.version}
    if opts.rollback_of is None and not await _resume_gate(mist, records, report, opts, own, installed):
        return
    report.soak_seconds = await _soak(mist, report, opts)
    for wave in report.waves:
        outcome = await _wave(mist, journal, report, wave, opts, own, sleep)
        if outcome == "promoted":
            report.waves_done = wave.number
            await records.event({"type": "wave_promoted", "wave": wave.number})
            continue
        for later in report.waves[wave.number:]:
            for t in later.targets:
                report.devices[t.mac].status = "untouched"
                report.devices[t.mac].why = f"the rollout stopped ({outcome}) at wave {wave.number}"
        await records.event({"type": f"rollout_{outcome}", "wave": wave.number, "reason": report.reason})
        if outcome == "halted" and opts.rollback and opts.rollback_of is None:  # a rollback is not undone
            await roll_back_wave(mist, journal, report, wave, opts, sleep)
        return
    if report.count("skipped"):
        report.status = "incomplete"
        report.reason = "; ".join(n for n in report.notes if ": skipped sites" in n)


def own_families(report: RolloutReport, installed: Mapping[str, str | None]) -> Own:
    """Per site, the families of devices this rollout will change that run a version mistctl installed
    (`installed`: MAC -> the version mistctl's last finished firmware step put on it)."""
    own: Own = {}
    for d in report.devices.values():
        t = d.target
        if d.status == "planned" and t.version is not None and installed.get(t.mac) == t.version:
            own.setdefault(t.site, set()).add(FAMILY_OF_DEVICE_TYPE[t.type])
    return own


async def _soak(mist: RolloutApi, report: RolloutReport, opts: RolloutOptions) -> float:
    """The soak: as asked, but at least one SLE interval (read from the first wave's first site)."""
    first = report.waves[0].targets[0]
    families = {FAMILY_OF_DEVICE_TYPE[t.type] for t in report.waves[0].targets}
    interval = await sle_interval(mist, first.site_id, families, mist_duration(max(opts.soak, 60.0)))
    if interval > opts.soak:
        report.notes.append(f"soak raised from {opts.soak:.0f}s to one SLE interval, {interval:.0f}s")
    return max(opts.soak, interval)


async def _resume_gate(mist: RolloutApi, records: Records, report: RolloutReport, opts: RolloutOptions,
                       own: Own, installed: set[str]) -> bool:
    """Sites where mistctl already put the version must be healthy (unless its other devices explain it)."""
    running = [d.target for d in report.devices.values() if d.status == "already" and d.target.mac in installed]
    if not running:
        return True
    families = {FAMILY_OF_DEVICE_TYPE[t.type] for t in running}
    sites = {t.site: t.site_id for t in running}
    health = await check_health(mist, records.org_id, sites, threshold=opts.threshold,
                                metrics=metrics_wanted(families=families))
    gate = compare(0, None, health, opts.max_drop)
    report.gates.append(gate)
    others = degraded_by_others(gate, own)
    if others:
        report.status = "halted"
        report.reason = gate_reason(gate, opts.version, resumed=True, only=set(others))
        return False
    return True


async def _wave(mist: RolloutApi, journal: Journal, report: RolloutReport, wave: Wave, opts: RolloutOptions,
                own: Own, sleep: Sleep) -> Outcome:
    """Pre-gate, upgrade, wait, soak, gate."""
    metrics = metrics_wanted(families={FAMILY_OF_DEVICE_TYPE[t.type] for t in wave.targets})
    duration = mist_duration(report.soak_seconds)
    sites = {t.site: t.site_id for t in wave.targets}
    baseline = await check_health(mist, journal.records.org_id, sites, threshold=opts.threshold, metrics=metrics,
                                  duration=duration)
    allowed = _pre_gate(report, wave, baseline, opts, own)
    if not wave.targets:
        return "promoted"
    if not await _upgrade(mist, journal, report, wave, opts, sleep):
        return "halted"
    await sleep(report.soak_seconds)
    sites = {t.site: t.site_id for t in wave.targets}
    after = await check_health(mist, journal.records.org_id, sites, threshold=opts.threshold, metrics=metrics,
                               duration=duration)
    gate = compare(wave.number, baseline, after, opts.max_drop, lenient=allowed)
    gate.no_data = [s.name for s in after.no_data]
    report.gates.append(gate)
    await _record_sites(journal.records, after, gate)
    if gate.failing:
        report.status, report.reason = "halted", gate_reason(gate, opts.version)
        return "halted"
    if gate.no_data:
        report.status = "held"
        report.reason = (f"wave {wave.number}: no SLE data after the soak at {', '.join(gate.no_data)}, so "
                         f"the wave cannot be judged and the rollout holds; re-run once the sites report SLEs")
        return "held"
    return "promoted"


def _pre_gate(report: RolloutReport, wave: Wave, baseline: HealthReport, opts: RolloutOptions,
              own: Own) -> set[str]:
    """Skip the wave's sites below the threshold for reasons outside this rollout (and say so); the sites
    below it because of mistctl's own devices, which the wave may upgrade (judged on drops only)."""
    if not baseline.failed:
        return set()
    gate = compare(wave.number, None, baseline, opts.max_drop)
    gate.before = True
    report.gates.append(gate)
    skipped = set(degraded_by_others(gate, own))
    if gate.allowed:
        report.notes.append(f"wave {wave.number}: {', '.join(gate.allowed)} below the SLE threshold because of "
                            "devices mistctl upgraded and this rollout changes: upgraded anyway")
    if not skipped:
        return set(gate.allowed)
    report.notes.append(gate_reason(gate, opts.version, before=True, only=skipped))
    for t in wave.targets:
        if t.site in skipped:
            d = report.devices[t.mac]
            d.status, d.why = "skipped", "its site was below the SLE threshold before the upgrade (not this rollout)"
    wave.targets = [t for t in wave.targets if t.site not in skipped]
    wave.whole_sites -= skipped
    return set(gate.allowed)


async def _upgrade(mist: RolloutApi, journal: Journal, report: RolloutReport, wave: Wave, opts: RolloutOptions,
                   sleep: Sleep) -> bool:
    """Start the wave's upgrades and wait for them; each device's step record follows its outcome."""
    records = journal.records
    await records.event({"type": "wave_started", "wave": wave.number, "devices": len(wave.targets)})
    await journal.wave_starting(wave.targets)
    started = await start_wave(mist, wave, journal=journal, concurrency=opts.concurrency)
    results = await wait_wave(mist, started, polling=opts.polling, sleep=sleep)
    upgraded = sum(status == "upgraded" for status, _why in results.values())
    await records.event({"type": "wave_upgraded", "wave": wave.number, "upgraded": upgraded,
                         "devices": len(wave.targets), "soak_seconds": report.soak_seconds})
    ok = record_results(report, wave.targets, results, wave.number)
    await records.store.record_steps([journal.step(t, *_outcome(report, t)) for t in wave.targets])
    return ok


def record_results(report: RolloutReport, targets: list[Target], results: Mapping[str, tuple[str, str | None]],
                   wave: int) -> bool:
    """Note each device's result; False (and the halt reason) when any failed or timed out."""
    bad = []
    for t in targets:
        status, why = results.get(t.mac, ("failed", "no result"))
        device = report.devices[t.mac]
        device.status, device.why = status, why
        device.after = t.want if status == "upgraded" else t.version
        if status != "upgraded":
            bad.append(f"{t.name or t.mac} at {t.site} ({why})")
    if bad:
        report.status = "halted"
        report.reason = f"wave {wave}: {len(bad)} device(s) not upgraded to {report.version}: " + "; ".join(bad[:5])
    return not bad


def _outcome(report: RolloutReport, t: Target) -> tuple[str, str | None]:
    d = report.devices[t.mac]
    return ("done", None) if d.status == "upgraded" else ("failed", d.why)


async def _record_sites(records: Records, after: HealthReport, gate: Gate) -> None:
    """The wave's sites in the state store: `sle_failed` for those the gate failed (drops included)."""
    for site in after.sites:
        site.failing = {m: float(v["after"] or 0.0) for m, v in gate.failing.get(site.name, {}).items()}
    await record_health(records.store, after, run_id=records.run_id)
