"""`mistctl assure` and `mistctl upgrade`: SLE gates and canary firmware rollouts.

Both exit 0 when all is well, 1 when a site is below its SLE threshold or the rollout halted (the
message names the sites and why), 2 on invalid input.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Annotated, Any

import typer
from rich.table import Table

from mistctl.bootstrap import open_services
from mistctl.cli.confirm import require_answerable
from mistctl.cli.day2_render import MAX_ROWS, health_table
from mistctl.cli.deploy_cmds import AllowOutsideOpt, FleetArg, HostOpt, OrgOpt, check_site
from mistctl.cli.errors import EXIT_FAILED, fail, handle_errors
from mistctl.cli.render import console
from mistctl.cli.rollout_view import confirm_rollout, wave_devices_table
from mistctl.cli.runids import resolve_run_id
from mistctl.domain.durations import human_duration, parse_duration
from mistctl.domain.fleet import Fleet
from mistctl.fleetio import load_fleet
from mistctl.workflow.assure import DEFAULT_THRESHOLD, HealthReport, assess, failure_summary
from mistctl.workflow.rollout import RolloutOptions, run_rollout
from mistctl.workflow.rollout_io import Polling
from mistctl.workflow.rollout_plan import DEFAULT_WAVES, By
from mistctl.workflow.rollout_report import RolloutReport

ThresholdOpt = Annotated[float, typer.Option("--threshold", min=0.01, max=1.0,
                                             help="Lowest acceptable SLE value (0..1).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def register(app: typer.Typer) -> None:
    """Add the assurance and rollout commands."""
    app.command("assure")(assure_cmd)
    app.command("upgrade")(upgrade_cmd)


@handle_errors
def assure_cmd(
    fleet_file: FleetArg,
    site: Annotated[str | None, typer.Option("--site", help="Only this site, with per-metric detail.")] = None,
    threshold: ThresholdOpt = DEFAULT_THRESHOLD,
    metrics: Annotated[str | None, typer.Option(
        "--metrics", help="Comma-separated SLE metrics (default: every wifi, wired and WAN metric).")] = None,
    allow_no_data: Annotated[bool, typer.Option(
        "--allow-no-data", help="Exit 0 when sites have no SLE data yet (Day 0), as long as none fails.")] = False,
    as_json: JsonOpt = False,
    org_id: OrgOpt = None,
    mist_host: HostOpt = None,
    allow_outside: AllowOutsideOpt = False,
) -> None:
    """Check every fleet site's SLEs: pass, fail or no-data each; exit 0 only when all pass (exit 1 naming the rest)."""
    fleet = load_fleet(fleet_file, allow_outside=allow_outside)
    check_site(fleet, site)
    names = [s.name for s in fleet.sites]
    wanted = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    report = asyncio.run(_assure(fleet, [site] if site else names, threshold, wanted, org_id, mist_host))
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_health(report, detail=site is not None)
    if not report.passes(allow_no_data=allow_no_data):
        hint = "; pass --allow-no-data to accept sites without data" if report.no_data else ""
        console(stderr=True).print(f"[red]assurance failed[/red]: {failure_summary(report)}{hint}", highlight=False)
        raise typer.Exit(EXIT_FAILED)


async def _assure(fleet: Fleet, names: list[str], threshold: float, metrics: list[str] | None,
                  org_id: str | None, mist_host: str | None) -> HealthReport:
    async with open_services(mist_host=mist_host, org_id=org_id or fleet.org_id) as svc:
        console(stderr=True).print(svc.banner)
        detail = names if len(names) == 1 else ()
        return await assess(svc.mist, svc.store, svc.org_id, names, threshold=threshold, metrics=metrics,
                            detail=detail)


def _print_health(report: HealthReport, *, detail: bool) -> None:
    con = console()
    con.print(health_table(report))
    if detail:
        for site in report.sites:
            for metric, info in sorted(site.detail.items()):
                value = info.get("value")
                shown = "no data" if value is None else f"{value:.3f}"
                con.print(f"  {site.name} {metric}: {shown}; worst classifier: {info.get('worst_classifier') or '-'}")
    con.print(f"{len(report.sites)} site(s): {len(report.sites) - len(report.failed) - len(report.no_data)} pass, "
              f"{len(report.failed)} fail, {len(report.no_data)} no data; {report.calls} Mist call(s)")


@handle_errors
def upgrade_cmd(
    fleet_file: FleetArg,
    version: Annotated[str, typer.Option("--version", help="The exact firmware version to roll out.")] = "",
    rollback_of: Annotated[str | None, typer.Option(
        "--rollback", metavar="RUN", help="Put the devices a rollout touched back on their versions before it.")]
    = None,
    no_rollback: Annotated[bool, typer.Option(
        "--no-rollback", help="On a halt, leave the halted wave's devices on the new version.")] = False,
    device_type: Annotated[str | None, typer.Option("--device-type", help="ap, switch or gateway.")] = None,
    waves: Annotated[str, typer.Option("--waves", help="Cumulative wave sizes; the first is the canary.")]
    = DEFAULT_WAVES,
    by: Annotated[str, typer.Option("--by", help="Waves of devices, or of whole sites.")] = "device",
    soak: Annotated[str, typer.Option("--soak", help="How long each wave runs before its SLE gate.")] = "10m",
    threshold: ThresholdOpt = DEFAULT_THRESHOLD,
    max_drop: Annotated[float, typer.Option("--max-drop", min=0.0, max=1.0,
                                            help="Largest SLE fall from the baseline a wave may cause.")] = 0.05,
    timeout: Annotated[str, typer.Option("--timeout", help="How long a wave's upgrades may take.")] = "30m",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the waves only; upgrade nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Roll out without asking.")] = False,
    as_json: JsonOpt = False,
    org_id: OrgOpt = None,
    mist_host: HostOpt = None,
    allow_outside: AllowOutsideOpt = False,
) -> None:
    """Roll a firmware version out in waves, gated on SLEs; a wave that hurts halts the rollout, is put back on
    the versions it ran, and later waves are left untouched. `--rollback RUN` undoes a rollout the same way."""
    fleet = load_fleet(fleet_file, allow_outside=allow_outside)
    by_value: By = "site" if by == "site" else "device"
    if by not in ("device", "site"):
        fail(f"--by {by!r}: choose device or site")
    if not version and not rollback_of:
        fail("name the firmware with --version, or the rollout to undo with --rollback RUN")
    opts = RolloutOptions(version=version, device_type=device_type, waves=waves, by=by_value,
                          soak=parse_duration(soak, what="--soak"), threshold=threshold, max_drop=max_drop,
                          polling=Polling(budget=parse_duration(timeout, what="--timeout")), dry_run=dry_run,
                          rollback=not no_rollback, rollback_of=rollback_of)
    opts.check()  # bad options are named before anything else (exit 2)
    if not dry_run:
        require_answerable(yes, "the rollout", "`--dry-run` shows its waves and devices")
    report = asyncio.run(_upgrade(fleet, opts, org_id, mist_host, yes=yes))
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_rollout(report)
    if report.status not in ("completed", "dry-run"):
        raise typer.Exit(EXIT_FAILED)


async def _upgrade(fleet: Fleet, opts: RolloutOptions, org_id: str | None, mist_host: str | None, *,
                   yes: bool = False) -> RolloutReport:
    async with open_services(mist_host=mist_host, org_id=org_id or fleet.org_id) as svc:
        console(stderr=True).print(svc.banner)
        if opts.rollback_of:  # the short id `status` prints, or any unique prefix
            opts = dataclasses.replace(opts, rollback_of=await resolve_run_id(svc.store, opts.rollback_of))
        await confirm_rollout(svc, [s.name for s in fleet.sites], opts, yes=yes)
        return await run_rollout(svc.mist, svc.store, svc.org_id, [s.name for s in fleet.sites], opts,
                                 ledger=svc.ledger, actor=svc.actor, progress=_progress_line)


def _progress_line(event: dict[str, Any]) -> None:
    """One line per wave step on stderr, so a rollout of an hour is not silent."""
    kind, wave = event.get("type"), event.get("wave")
    lines = {
        "wave_started": f"wave {wave}: upgrading {event.get('devices')} device(s)",
        "wave_upgraded": f"wave {wave}: {event.get('upgraded')}/{event.get('devices')} upgraded; soaking "
                         f"{human_duration(float(event.get('soak_seconds') or 0))} before the SLE gate",
        "wave_promoted": f"wave {wave}: SLE gate passed",
        "rollout_halted": f"wave {wave}: halted",
        "rollout_held": f"wave {wave}: held (no SLE data to judge it by)",
        "rollback_started": f"wave {wave}: rolling {event.get('devices')} device(s) back to their versions before",
        "rollback_done": f"wave {wave}: {event.get('rolled_back')} device(s) rolled back; SLEs after: "
                         f"{'ok' if event.get('sle_ok') else 'still below the threshold or no data'}",
    }
    if kind in lines:
        console(stderr=True).print(lines[str(kind)], highlight=False, markup=False)


def _print_rollout(report: RolloutReport) -> None:
    con = console()
    waves = Table(title=f"Waves to {report.version}")
    for col in ("wave", "devices", "sites", "site-level calls"):
        waves.add_column(col)
    for w in report.waves:
        waves.add_row(str(w.number), str(len(w.targets)), _few(w.sites), str(len(w.whole_sites)))
    con.print(waves)
    if report.status == "dry-run":
        con.print(wave_devices_table(report))
    else:
        con.print(_devices_table(report))
    if report.missing_sites:
        con.print(f"[yellow]not in the org (skipped)[/yellow]: {_few(report.missing_sites)}")
    if report.status == "dry-run":
        total = sum(len(w.targets) for w in report.waves)
        con.print(f"dry run: {total} device(s) would be upgraded in {len(report.waves)} wave(s); nothing was changed")
        return
    kinds = ("upgraded", "already", "failed", "timeout", "untouched", "skipped", "rolled-back", "rollback-failed")
    counts = {s: report.count(s) for s in kinds}
    con.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no devices to upgrade")
    for note in report.notes:
        con.print(f"note: {note}", highlight=False, markup=False)
    if report.rollback is not None:
        rb = report.rollback
        after = "; ".join(f"{s['name']} {s['status']}" for s in rb["sites"])
        con.print(f"rolled back {rb['rolled_back']}/{rb['devices']} device(s) of wave {rb['wave']}; SLEs after: "
                  f"{after}", highlight=False, markup=False)
    if report.status in ("halted", "held", "incomplete"):
        con.print(f"[red]{report.status}[/red]: {report.reason}", highlight=False)
    elif report.status == "completed":
        done = f"the versions before {report.rollback_of}" if report.rollback_of else report.version
        con.print(f"[green]completed[/green]: every device runs {done} (run {report.run_id})")


def _devices_table(report: RolloutReport) -> Table:
    table = Table(title="Devices")
    for col in ("site", "device", "model", "before", "now", "status", "wave", "why"):
        table.add_column(col)
    rows: list[Any] = sorted(report.devices.values(), key=lambda d: (d.status == "untouched", d.target.site))
    for d in rows[:MAX_ROWS]:
        j = d.to_json()
        table.add_row(j["site"], j["name"] or j["mac"], j["model"], j["before"] or "-", j["now"] or "-",
                      j["status"], str(j["wave"] or "-"), j["why"] or "")
    if len(rows) > MAX_ROWS:
        table.add_row(f"... {len(rows) - MAX_ROWS} more (see --json)", "", "", "", "", "", "", "")
    return table


def _few(names: list[str], limit: int = 4) -> str:
    return ", ".join(names[:limit]) + (f" (+{len(names) - limit})" if len(names) > limit else "")
