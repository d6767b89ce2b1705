"""`mistctl plan`, `mistctl apply`, `mistctl status`, `mistctl audit`, `mistctl demo`."""

from __future__ import annotations

import asyncio
import json
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from mistctl.cli.apply_json import JsonStream, progress_for
from mistctl.cli.apply_target import resolve_apply_target
from mistctl.cli.confirm import confirm
from mistctl.cli.delete_render import kept_lines, nothing_to_do, outcome_lines
from mistctl.cli.errors import EXIT_FAILED, fail, handle_errors
from mistctl.cli.lock_cmds import DEFAULT_LOCK_TIMEOUT, LockTimeoutOpt, hold_org
from mistctl.cli.options import ConcurrencyOpt, KindOpt, SiteOpt, TakeOwnershipOpt
from mistctl.cli.plan_detail import detail_json, detail_lines, fingerprinter, live_lookup
from mistctl.cli.plan_view import print_plan
from mistctl.cli.render import change_lines, console, report_table, safe
from mistctl.domain.durations import parse_duration
from mistctl.domain.fleet import Fleet
from mistctl.domain.owners import Ownership, fleet_ownership
from mistctl.domain.plan import Plan
from mistctl.domain.targets import Target, select, target_for
from mistctl.fleetio import load_fleet
from mistctl.store.models import Run, new_run_id
from mistctl.workflow import deploy
from mistctl.workflow.apply import ApplyResult
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.runlock import RunLease

if TYPE_CHECKING:
    from mistctl.bootstrap import Services

EXIT_CHANGES = 4  # `plan --detailed-exitcode`: something would change (2 is already invalid input)
FleetArg = Annotated[Path, typer.Argument(help="The fleet file (YAML).", show_default=False)]
OrgOpt = Annotated[str | None, typer.Option("--org-id", help="Mist org id (else the fleet's org_id or MIST_ORG_ID).")]
HostOpt = Annotated[str | None, typer.Option("--mist-host", help="Mist cloud host or URL (else MIST_HOST).")]
AllowOutsideOpt = Annotated[bool, typer.Option(
    "--allow-outside", help="Read sites CSV files outside the fleet file's folder.")]


def __getattr__(name: str) -> Any:
    """`open_services`, imported from bootstrap when a command first opens its services (`--help` needs no Mist
    client, settings or store); a test may put its own in its place."""
    if name != "open_services":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from mistctl.bootstrap import open_services

    return open_services


def _open_services(**kwargs: Any) -> AbstractAsyncContextManager[Services]:
    opener = globals().get("open_services") or __getattr__("open_services")
    return opener(**kwargs)  # type: ignore[no-any-return]


def register(app: typer.Typer) -> None:
    """Add the plan/apply/status/audit/demo commands."""
    app.command("plan")(plan_cmd)
    app.command("apply")(apply_cmd)
    app.command("status")(status_cmd)
    app.command("audit")(audit_cmd)
    app.command("demo")(demo_cmd)


@handle_errors
def plan_cmd(
    fleet_file: FleetArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Save the plan for `mistctl apply PLAN`.")] = None,
    site: SiteOpt = None,
    kind: KindOpt = None,
    detail: Annotated[bool, typer.Option(
        "--detail", help="Every changed value, before and after (secrets as fingerprints).")] = False,
    org_id: OrgOpt = None,
    mist_host: HostOpt = None,
    allow_outside: AllowOutsideOpt = False,
    detailed_exitcode: Annotated[bool, typer.Option(
        "--detailed-exitcode", help="Exit 0 when nothing would change, 4 when something would (for CI).")] = False,
    take_ownership: TakeOwnershipOpt = False,
) -> None:
    """Show what `apply` would change, with the estimated API calls and ETA; writes nothing."""
    fleet = load_fleet(fleet_file, allow_outside=allow_outside)
    target = select(fleet, site or (), kind or ())
    plan = asyncio.run(_plan(fleet, fleet_file, as_json=as_json, out=out, target=target, detail=detail,
                             org_id=org_id, mist_host=mist_host, take=take_ownership))
    if detailed_exitcode and not plan.is_empty():
        raise typer.Exit(EXIT_CHANGES)


async def _plan(fleet: Fleet, path: Path, *, as_json: bool, out: Path | None, target: Target | None, detail: bool,
                org_id: str | None, mist_host: str | None, force_twin: bool = False, take: bool = False) -> Plan:
    err = console(stderr=True)
    async with _open_services(mist_host=mist_host, org_id=org_id or fleet.org_id, force_twin=force_twin) as svc:
        err.print(safe(svc.banner))
        async with svc.owners_asked():  # GET /self in flight while the fleet's desired state is built
            planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, target=target,
                                              concurrency=svc.concurrency,
                                              ownership=fleet_ownership(fleet.name, str(path), take=take))
        planned.plan.fleet_path = str(path.resolve())
        eta = await svc.eta(planned.plan)
        budgets = await svc.budget_lines()
    data = planned.plan.to_json() | {"eta_seconds": round(eta, 1)} | ({"token_budgets": budgets} if budgets else {})
    fp, live = fingerprinter(svc.org_id), live_lookup(planned.live.objects)
    if detail:
        for change, rows in zip(data["changes"], detail_json(planned.plan, fp, live), strict=True):
            change["detail"] = rows
    if out is not None:
        out.write_text(json.dumps(data, indent=2))
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        lines = detail_lines(planned.plan, fp, live) if detail else change_lines(planned.plan) if target else []
        print_plan(planned.plan, eta, lines, out, budgets, ownership=planned.ownership)
    if planned.plan.fatal_problems:  # never "no changes" while the org has conflicts
        raise typer.Exit(EXIT_FAILED)
    return planned.plan


@handle_errors
def apply_cmd(
    target: Annotated[Path, typer.Argument(help="A fleet file, or a plan saved by `mistctl plan --out`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    concurrency: ConcurrencyOpt = None,
    fleet_file: Annotated[Path | None, typer.Option("--fleet", help="The fleet file of a saved plan.")] = None,
    org_id: OrgOpt = None,
    mist_host: HostOpt = None,
    assure: Annotated[bool, typer.Option("--assure", help="Gate the sites provisioned on their SLEs.")] = False,
    soak: Annotated[str, typer.Option("--soak", help="With --assure: wait this long before the gate.")] = "5m",
    queue: Annotated[bool, typer.Option("--queue", help="Hand the run to `mistctl worker`s.")] = False,
    detach: Annotated[bool, typer.Option("--detach", help="With --queue: print the run id only.")] = False,
    allow_outside: AllowOutsideOpt = False,
    lock_timeout: LockTimeoutOpt = "1h",
    allow_delete: Annotated[bool, typer.Option(
        "--allow-delete", help="Delete the managed objects the fleet no longer names (else they are kept).")] = False,
    release_devices: Annotated[bool, typer.Option(
        "--release-devices", help="With --allow-delete: unassign a removed site's devices, then delete it.")] = False,
    unclaim: Annotated[bool, typer.Option(
        "--unclaim", help="With --release-devices: unclaim those devices (out of the org inventory).")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Stream one JSON event per line, ending with the report (human output on stderr).")] = False,
    take_ownership: TakeOwnershipOpt = False,
    site: SiteOpt = None,
    kind: KindOpt = None,
) -> None:
    """Apply a fleet (plan, confirm, apply) or exactly a saved plan. Exit 0 done, 1 sites failed, 2 bad input."""
    saved, fleet_path = resolve_apply_target(target, fleet_file)
    fleet = load_fleet(fleet_path, allow_outside=allow_outside)
    ownership = fleet_ownership(fleet.name, str(fleet_path), take=take_ownership)
    chosen = target_for(fleet, saved, site or [], kind or [])
    if chosen is not None and (queue or allow_delete):
        fail("--site/--kind apply in place and never delete: drop --queue/--allow-delete, or apply the whole fleet")
    gate = parse_duration(soak, what="--soak") if assure else None
    if (detach and not queue) or (queue and assure):
        fail("--detach goes with --queue; --assure does not (run `mistctl assure` once the queued run ended)")
    wait = parse_duration(lock_timeout, what="--lock-timeout")
    if (release_devices and not allow_delete) or (unclaim and not release_devices):
        fail("--release-devices goes with --allow-delete, --unclaim with --release-devices")
    consent = DeleteConsent(allow_delete=allow_delete, release_devices=release_devices, unclaim=unclaim)
    if queue and as_json:
        fail("--json streams a run applied here; follow a queued run with `mistctl status --run ID --json`")
    code = asyncio.run(_apply(fleet, saved, yes=yes, concurrency=concurrency, org_id=org_id, mist_host=mist_host,
                              gate=gate, queue=queue, detach=detach, lock_timeout=wait, consent=consent,
                              as_json=as_json, ownership=ownership, target=chosen))
    raise typer.Exit(code)


async def _apply(fleet: Fleet, saved: dict[str, Any] | None, *, yes: bool, concurrency: int | None,
                 org_id: str | None, mist_host: str | None, force_twin: bool = False,
                 gate: float | None = None, queue: bool = False, detach: bool = False,
                 lock_timeout: float = DEFAULT_LOCK_TIMEOUT, consent: DeleteConsent | None = None,
                 as_json: bool = False, ownership: Ownership | None = None, target: Target | None = None) -> int:
    consent = consent or DeleteConsent()
    con, stream = console(stderr=as_json), JsonStream(as_json)
    async with _open_services(mist_host=mist_host, org_id=org_id or fleet.org_id,
                             concurrency=concurrency, force_twin=force_twin) as svc:
        con.print(safe(svc.banner))
        concurrency = svc.concurrency  # the flag, else MIST_CONCURRENCY: sites at once and calls in flight
        if queue:  # the workers apply it (scale-out: mistctl.scaleout.queue); they take the org lock before planning
            planned = await _planned(svc, fleet, saved, con, consent, stream, ownership)
            if planned is None:
                return 0
            _confirm(saved, yes, con)
            await _adopt(svc, planned, con)
            from mistctl.cli.worker_cmds import apply_queued

            return await apply_queued(svc, fleet, planned, concurrency=concurrency, detach=detach, con=con,
                                      consent=consent)
        run_id = new_run_id()
        async with hold_org(svc, run_id, [s.name for s in fleet.sites], lock_timeout, con) as lease:
            async with svc.owners_asked():  # GET /self in flight while the fleet's desired state is built
                planned = await _planned(svc, fleet, saved, con, consent, stream, ownership, target)
            if planned is None:
                return 0
            _confirm(saved, yes, con)
            await lease.ensure(svc.org_id)  # planning (or the prompt) may have outlasted the locks' lifetime
            await _adopt(svc, planned, con)
            run = await svc.new_run("apply", planned.plan, run_id=run_id)
            await lease.attach(run)
            stream.run(run.id, svc.org_id)
            code, result = await _run_apply(svc, planned, run, con=con, consent=consent, as_json=as_json,
                                            lease=lease)
        if gate is not None:  # Day 2: the sites are done only once their SLEs pass (cli/day2_gate.py)
            from mistctl.cli.day2_gate import gate_applied

            code = max(code, await gate_applied(svc, result.sites_done, soak=gate, run_id=run.id, out=con))
        stream.report(result, run_id=run.id, calls=svc.ledger.total, gate_code=code if gate is not None else None)
        return code


async def _adopt(svc: Services, planned: deploy.Planned, con: Any) -> None:
    """Record the unchanged live objects as managed (an imported org's first apply): no Mist write."""
    from mistctl.workflow.adopt import adopt_unchanged

    adopted = await adopt_unchanged(svc.store, planned, actor=svc.actor)
    if adopted:
        con.print(f"adopted {adopted} unchanged objects as managed: recorded in the state store, 0 writes to Mist")


async def _planned(svc: Services, fleet: Fleet, saved: dict[str, Any] | None, con: Console,
                   consent: DeleteConsent, stream: JsonStream, ownership: Ownership | None = None,
                   target: Target | None = None) -> deploy.Planned | None:
    """The fresh plan, checked (a saved plan still holds, no conflicts) and shown; None when empty."""
    planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, concurrency=svc.concurrency,
                                      ownership=ownership, target=target)
    if saved is not None:
        deploy.check_saved(saved, planned.plan)
    deploy.check_problems(planned.plan)
    eta = await svc.eta(planned.plan)
    print_plan(planned.plan, eta, change_lines(planned.plan) if target else [], None, con=con, ownership=ownership)
    stream.plan(planned.plan, eta)
    for line in kept_lines(planned.plan, consent):
        con.print(line, markup=False)
    if planned.plan.is_empty() or nothing_to_do(planned.plan, consent):
        await _adopt(svc, planned, con)  # an imported org's first apply: recorded as managed, 0 writes
        stream.nothing(calls=svc.ledger.total)
        return None
    return planned


def _confirm(saved: dict[str, Any] | None, yes: bool, con: Console) -> None:
    """Ask before applying a fresh plan (a saved plan was reviewed when it was made); exit 2 on no."""
    if saved is None:
        confirm("Apply these changes?", yes=yes, what="the plan above", out=con,
                hint="or save it with `mistctl plan --out plan.json` and `mistctl apply plan.json`")


async def _run_apply(svc: Services, planned: deploy.Planned, run: Run, *, con: Console, consent: DeleteConsent,
                     as_json: bool, lease: RunLease | None = None) -> tuple[int, ApplyResult]:
    """Apply under the recorded run with progress, print the report; the exit code and the result."""
    concurrency = svc.concurrency
    con.print(f"run {run.id}: applying to org {svc.org_id}, {concurrency} sites and "
              f"{svc.settings.mist_concurrency} Mist calls at once")
    with progress_for(as_json, len(planned.desired.sites), con, lambda: svc.ledger.total) as progress:
        result = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run,
                                            concurrency=concurrency, progress=progress, consent=consent,
                                            lease=lease)
    con.print(report_table(result, svc.ledger.by_site))
    for line in outcome_lines(result.deletes):
        con.print(line, markup=False)
    con.print(f"{result.writes} writes, {svc.ledger.total} API calls in all; "
              f"{len(result.sites_done)} sites done, {len(result.sites_failed)} failed"
              + (f", {len(result.sites_pending)} waiting for ordered devices" if result.sites_pending else ""))
    if result.cancelled:
        con.print(f"run {run.id} was cancelled: the sites not started were left alone; apply again to finish")
    return (0 if result.ok else EXIT_FAILED), result


def check_site(fleet: Fleet, site: str | None) -> None:
    """Exit 2 naming `site` when it is given and the fleet has no such site."""
    if site is not None and site not in {s.name for s in fleet.sites}:
        fail(f"site {site!r} is not in the fleet file; `mistctl ipam FLEET` lists its sites")


@handle_errors
def status_cmd(
    run_id: Annotated[str | None, typer.Option("--run", help="One run's status.")] = None,
    site: Annotated[str | None, typer.Option("--site", help="One site's recorded state and steps.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the records as JSON.")] = False,
) -> None:
    """Runs and sites as the state store records them (no Mist calls)."""
    from mistctl.cli.status_view import show_status

    asyncio.run(show_status(run_id=run_id, site=site, as_json=as_json))


@handle_errors
def audit_cmd(
    run_id: Annotated[str | None, typer.Option("--run", help="Only this run's writes.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many entries.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entries as JSON.")] = False,
) -> None:
    """The audit log: every write mistctl made to Mist (no bodies, no secrets)."""
    from mistctl.cli.status_view import show_audit

    asyncio.run(show_audit(run_id=run_id, limit=limit, as_json=as_json))


@handle_errors
def demo_cmd(
    fleet_file: Annotated[Path, typer.Argument(help="The fleet to provision.")] = Path("examples/fleet.yaml"),
) -> None:
    """Provision the example fleet into the built-in twin (never a real Mist), then show a second plan is empty."""
    fleet = load_fleet(fleet_file).model_copy(update={"org_id": None})
    code = asyncio.run(_apply(fleet, None, yes=True, concurrency=8, org_id=None, mist_host=None, force_twin=True,
                              ownership=fleet_ownership(fleet.name, str(fleet_file))))
    asyncio.run(_plan(fleet, fleet_file, as_json=False, out=None, target=None, detail=False, org_id=None,
                      mist_host=None, force_twin=True))
    raise typer.Exit(code)


__all__ = ["register"]
