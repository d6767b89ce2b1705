"""`mistctl upgrade`: each wave's devices (model, version now), and the question asked before a rollout."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from rich.table import Table

from mistctl.bootstrap import Services
from mistctl.cli.confirm import confirm
from mistctl.cli.day2_render import MAX_ROWS
from mistctl.cli.render import console
from mistctl.cli.timefmt import human_duration
from mistctl.workflow.rollout import RolloutOptions, run_rollout
from mistctl.workflow.rollout_report import RolloutReport


def wave_devices_table(report: RolloutReport, limit: int = MAX_ROWS) -> Table:
    """One row per device to upgrade, wave by wave: site, device, model, the version it runs, the one it gets."""
    table = Table(title="Devices by wave")
    for col in ("wave", "site", "device", "model", "version now", "to"):
        table.add_column(col)
    rows = [(w.number, t) for w in report.waves for t in w.targets]
    for number, t in rows[:limit]:
        table.add_row(str(number), t.site, t.name or t.mac, t.model or "-", t.version or "-",
                      t.want or report.version or "-")
    if len(rows) > limit:
        table.add_row(f"... {len(rows) - limit} more (see --json)", "", "", "", "", "")
    return table


def rollout_summary(report: RolloutReport, opts: RolloutOptions) -> str:
    """One sentence: how many devices, where, to what, in how many waves, gated how."""
    devices = sum(len(w.targets) for w in report.waves)
    sites = len({t.site for w in report.waves for t in w.targets})
    to = f"back to their versions before run {opts.rollback_of}" if opts.rollback_of else f"to {report.version}"
    sizes = ", ".join(str(len(w.targets)) for w in report.waves)
    return (f"upgrade {devices} device(s) at {sites} site(s) {to} in {len(report.waves)} wave(s) ({sizes}); "
            f"each wave soaks {human_duration(opts.soak)} and must keep its SLEs at or above {opts.threshold:.2f}")


async def confirm_rollout(svc: Services, site_names: Sequence[str], opts: RolloutOptions, *, yes: bool) -> None:
    """Unless `yes` (or a dry run): work the waves out (reads only), show them, and ask."""
    if yes or opts.dry_run:
        return
    preview = await run_rollout(svc.mist, svc.store, svc.org_id, site_names, dataclasses.replace(opts, dry_run=True),
                                ledger=svc.ledger, actor=svc.actor)
    if not any(w.targets for w in preview.waves):
        return  # nothing to upgrade: the rollout only says so
    err = console(stderr=True)
    err.print(wave_devices_table(preview))
    confirm("Start this rollout?", yes=yes, what="the rollout", out=err,
            summary=[rollout_summary(preview, opts)])
