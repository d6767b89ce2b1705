"""Putting devices back on the firmware they ran before a rollout.

After a halt: the halted wave's upgraded devices go back to the version each ran before the wave
(read from the report, the same values the journal wrote before the calls), one call each; mistctl
waits for them, soaks, and reports the wave's sites' SLEs after (`report.rollback`).

`upgrade --rollback RUN`: the run's version-before records (`rollout_journal`) give every device it
touched its own target; devices already there are skipped; the rest go in waves, gated like any
rollout (a site below the threshold because of these very devices is no reason to stop). A halted
rollback stops there: its devices are not put back on the versions being rolled back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from mistctl.errors import UserError
from mistctl.mist.models_day2 import FAMILY_OF_DEVICE_TYPE
from mistctl.store.port import StateStore
from mistctl.workflow.assure import check_health, metrics_wanted, mist_duration, record_health
from mistctl.workflow.rollout_io import Sleep, start_wave, wait_wave
from mistctl.workflow.rollout_journal import Journal, versions_before
from mistctl.workflow.rollout_plan import Target, Wave
from mistctl.workflow.rollout_prep import RolloutApi, RolloutOptions, cut_waves, live_sites, read_stats, target, wanted
from mistctl.workflow.rollout_report import RolloutReport


async def roll_back_wave(mist: RolloutApi, journal: Journal, report: RolloutReport, wave: Wave,
                         opts: RolloutOptions, sleep: Sleep) -> None:
    """Put the wave's upgraded devices back on their versions before, wait, soak, and read the SLEs."""
    back = [dataclasses.replace(t, version=t.want, want=t.version, upgrading=False) for t in wave.targets
            if report.devices[t.mac].status == "upgraded" and t.version]
    if not back:
        return
    records = journal.records
    await records.event({"type": "rollback_started", "wave": wave.number, "devices": len(back)})
    await records.store.record_steps([journal.step(t, "running") for t in back])
    started = await start_wave(mist, Wave(wave.number, back), journal=journal, concurrency=opts.concurrency)
    results = await wait_wave(mist, started, polling=opts.polling, sleep=sleep)
    for t in back:
        status, why = results.get(t.mac, ("failed", "no result"))
        d = report.devices[t.mac]
        d.status, d.after = ("rolled-back", t.want) if status == "upgraded" else ("rollback-failed", t.version)
        d.why = f"put back on {t.want} after the halt" if status == "upgraded" else why
    await records.store.record_steps([journal.step(t, *_step_outcome(report, t)) for t in back])
    await sleep(report.soak_seconds)
    families = {FAMILY_OF_DEVICE_TYPE[t.type] for t in back}
    health = await check_health(mist, records.org_id, {t.site: t.site_id for t in back}, threshold=opts.threshold,
                                metrics=metrics_wanted(families=families), duration=mist_duration(report.soak_seconds))
    await record_health(records.store, health, run_id=records.run_id)
    report.rollback = _summary(wave.number, back, report, health.to_json())
    await records.event({"type": "rollback_done", "wave": wave.number,
                         "rolled_back": report.rollback["rolled_back"], "sle_ok": health.ok})


def _step_outcome(report: RolloutReport, t: Target) -> tuple[str, str | None]:
    d = report.devices[t.mac]
    return ("done", None) if d.status == "rolled-back" else ("failed", d.why)


def _summary(wave: int, back: list[Target], report: RolloutReport, health: dict[str, Any]) -> dict[str, Any]:
    done = sum(report.devices[t.mac].status == "rolled-back" for t in back)
    sites = [{"name": s["name"], "status": s["status"], "values": s["values"]} for s in health["sites"]]
    return {"wave": wave, "devices": len(back), "rolled_back": done, "sle_ok": health["ok"], "sites": sites}


async def prepare_rollback(mist: RolloutApi, store: StateStore, org_id: str, site_names: Sequence[str],
                           opts: RolloutOptions) -> RolloutReport:
    """The waves that put every device a run touched back on its version before that run."""
    opts.check()
    run_id = str(opts.rollback_of)
    run = await store.get_run(run_id, include_plan=False)
    if run is None or run.kind != "upgrade" or run.org_id != org_id:
        raise UserError(f"no rollout {run_id!r} in org {org_id}: `mistctl status` lists the runs")
    befores = await versions_before(store, org_id, run_id)
    if not befores:
        raise UserError(f"rollout {run_id} upgraded no device, so there is nothing to roll back")
    live = await live_sites(mist, org_id)
    names = sorted({str(b.site) for b in befores.values() if b.site} & set(site_names))
    report = RolloutReport(org_id, f"the versions before {run_id}", rollback_of=run_id,
                           missing_sites=[n for n in names if n not in live])
    sites = {n: live[n] for n in names if n in live}
    stats = await read_stats(mist, sites, opts)
    targets = [target(s, name, sites[name], str(befores[str(s.mac).lower()].applied_hash))
               for name, ss in stats.items() for s in ss
               if wanted(s, opts) and befores.get(str(s.mac).lower()) is not None
               and befores[str(s.mac).lower()].applied_hash]
    cut_waves(report, targets, opts)
    return report
