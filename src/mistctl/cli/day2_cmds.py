"""`mistctl drift`, `mistctl psk rotate|finish|list`, `mistctl assure`, `mistctl upgrade`: the Day 2 commands.

Exit codes as everywhere (cli/errors.py): 0 ok, 1 failed (a site below its SLE threshold, a halted
rollout, a Mist error), 2 invalid input or refused (PSK grace not over), 3 drift found.
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Any

import typer

from mistctl.bootstrap import open_services
from mistctl.cli import day2_rollout
from mistctl.cli.confirm import confirm
from mistctl.cli.day2_render import drift_summary, drift_table, psk_rotation_table, psk_state_table
from mistctl.cli.delete_render import DRIFT_HOW, kept_lines, nothing_to_do, outcome_lines
from mistctl.cli.deploy_cmds import AllowOutsideOpt, FleetArg, HostOpt, OrgOpt
from mistctl.cli.errors import EXIT_DRIFT, EXIT_FAILED, EXIT_INVALID, fail, handle_errors
from mistctl.cli.json_out import echo_json
from mistctl.cli.lock_cmds import DEFAULT_LOCK_TIMEOUT, hold_org
from mistctl.cli.options import ConcurrencyOpt, TakeOwnershipOpt
from mistctl.cli.render import console, report_table, safe
from mistctl.cli.timefmt import human_duration
from mistctl.domain.durations import parse_duration
from mistctl.domain.owners import Ownership, fleet_ownership
from mistctl.fleetio import load_fleet
from mistctl.store.models import new_run_id, utcnow
from mistctl.workflow import drift, psk
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.psk_records import rotation_state

psk_app = typer.Typer(help="Rotate PSK passphrases safely (the old one keeps working for a grace period).",
                      no_args_is_help=True)
NamesOpt = Annotated[list[str] | None, typer.Option("--name", help="A PSK by name (repeatable).")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every PSK of the org.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Go ahead without asking (scripts).")]


def register(app: typer.Typer) -> None:
    """Add the Day 2 commands."""
    app.command("drift")(drift_cmd)
    app.add_typer(psk_app, name="psk")
    day2_rollout.register(app)


@handle_errors
def drift_cmd(
    fleet_file: FleetArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the differences as JSON.")] = False,
    fix: Annotated[bool, typer.Option("--fix", help="Apply the plan that converges the org back.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Fix without asking.")] = False,
    allow_delete: Annotated[bool, typer.Option(
        "--allow-delete", help="With --fix: remove what was added by hand in managed WLAN templates and site "
        "groups, and delete the managed objects the fleet no longer names (else kept, listed).")] = False,
    release_devices: Annotated[bool, typer.Option(
        "--release-devices", help="With --allow-delete: unassign a removed site's devices, then delete it.")] = False,
    concurrency: ConcurrencyOpt = None,
    org_id: OrgOpt = None,
    mist_host: HostOpt = None,
    allow_outside: AllowOutsideOpt = False,
    take_ownership: TakeOwnershipOpt = False,
) -> None:
    """Compare the live org (site settings included) with the fleet. Exit 0 none, 3 drift, 1 fix failed."""
    if (allow_delete and not fix) or (release_devices and not allow_delete):
        fail("--allow-delete goes with --fix, --release-devices with --allow-delete")
    fleet = load_fleet(fleet_file, allow_outside=allow_outside)
    consent = DeleteConsent(allow_delete=allow_delete, release_devices=release_devices)
    ownership = fleet_ownership(fleet.name, str(fleet_file), take=take_ownership)
    raise typer.Exit(asyncio.run(_drift(fleet, as_json=as_json, fix=fix, yes=yes, concurrency=concurrency,
                                        org_id=org_id or fleet.org_id, mist_host=mist_host, consent=consent,
                                        ownership=ownership)))


async def _drift(fleet: Any, *, as_json: bool, fix: bool, yes: bool, concurrency: int | None, org_id: str | None,
                 mist_host: str | None, consent: DeleteConsent, ownership: Ownership | None = None) -> int:
    con, err = console(), console(stderr=True)
    async with open_services(mist_host=mist_host, org_id=org_id, concurrency=concurrency) as svc, \
            AsyncExitStack() as held:
        err.print(safe(svc.banner))
        run_id = new_run_id()
        if fix:  # a fix is a run of the org: it holds the org lock from before it reads (cli/lock_cmds.py)
            await held.enter_async_context(hold_org(svc, run_id, [], DEFAULT_LOCK_TIMEOUT, err))
        concurrency = svc.concurrency
        report = await drift.detect_drift(svc.mist, svc.store, fleet, svc.org_id, concurrency=concurrency,
                                          ownership=ownership)
        if as_json:
            typer.echo(json.dumps(report.to_json(), indent=2, default=str))
        else:
            if report.drifted:
                con.print(drift_table(report))
            con.print(drift_summary(report))
        if not report.drifted:
            return 0
        if not fix:
            return EXIT_DRIFT
        if nothing_to_do(report.planned.plan, consent):  # only removals, and no consent to make them
            for line in kept_lines(report.planned.plan, consent, how=DRIFT_HOW):
                err.print(line, markup=False)
            err.print("nothing was fixed: the drift left needs --allow-delete")
            return EXIT_DRIFT
        _confirm_fix(yes)
        result = await drift.fix_drift(svc.mist, svc.store, report, ledger=svc.ledger, actor=svc.actor,
                                       concurrency=concurrency, run_id=run_id, consent=consent)
        err.print(report_table(result, svc.ledger.by_site))
        for line in outcome_lines(result.deletes, how=DRIFT_HOW):
            err.print(line, markup=False)
        return _fix_verdict(result, err)


def _fix_verdict(result: Any, err: Any) -> int:
    """Say what the fix did; exit 0 fixed, 3 when removals were kept (the drift is still there), 1 failed."""
    if not result.ok:
        err.print("the fix failed for some sites" if not result.deletes.failed else "the fix failed")
        return EXIT_FAILED
    if result.deletes.kept:
        err.print(f"drift fixed in part with {result.writes} write(s); {len(result.deletes.kept)} kept (above)")
        return EXIT_DRIFT
    err.print(f"drift fixed with {result.writes} write(s)")
    return 0


def _confirm_fix(yes: bool) -> None:
    try:
        confirm("Apply the changes that converge the org back to the fleet?", yes=yes, what="the fix")
    except typer.Exit as exc:
        raise typer.Exit(EXIT_DRIFT) from exc  # declined: the drift is still there


# -- PSK rotation ---------------------------------------------------------------------------------


@psk_app.command("rotate")
@handle_errors
def psk_rotate_cmd(
    names: NamesOpt = None,
    every: AllOpt = False,
    grace: Annotated[str, typer.Option("--grace", help="How long the old passphrase keeps working.")] = "24h",
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the new passphrases to this new file (mode 0600) instead of the screen.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Rotate even a PSK whose previous rotation is not finished.")] = False,
    yes: YesOpt = False,
    org_id: OrgOpt = None,
    mist_host: HostOpt = None,
) -> None:
    """Set a new random passphrase on PSKs; Mist keeps the old one until `mistctl psk finish`."""
    grace_s = parse_duration(grace, what="--grace")
    confirm("Rotate these passphrases?", yes=yes, what="the rotation", summary=[
        f"rotate the passphrase of {_which(names, every, 'every PSK of the org')}; devices must move to the new "
        f"one within {human_duration(grace_s)}, after which `mistctl psk finish` removes the old one"])
    fd = _secret_file(out) if out is not None else None
    try:
        outcome = asyncio.run(_rotate(names or [], every, grace_s, force, org_id, mist_host))
    except BaseException:
        if fd is not None and out is not None:
            os.close(fd)
            out.unlink(missing_ok=True)
        raise
    con = console()
    if fd is not None and out is not None:
        _write_secrets(fd, outcome)
        con.print(psk_rotation_table(outcome.rotated, reveal=False))
        con.print(f"the new passphrases are in {out} (readable by you only); they are not stored anywhere else")
    else:
        con.print(psk_rotation_table(outcome.rotated, reveal=True))
        con.print("[bold]shown once[/bold]: store them now; mistctl keeps only fingerprints")
    for name, why in sorted(outcome.failed.items()):
        con.print(f"[red]{name}[/red]: not rotated: {why}", markup=True)
    con.print(f"run {outcome.run_id}; finish after the grace period with `mistctl psk finish`")
    raise typer.Exit(0 if outcome.ok else EXIT_FAILED)


async def _rotate(names: list[str], every: bool, grace: float, force: bool, org_id: str | None,
                  mist_host: str | None) -> psk.RotationOutcome:
    async with open_services(mist_host=mist_host, org_id=org_id) as svc:
        console(stderr=True).print(svc.banner)
        return await psk.rotate_psks(svc.mist, svc.store, svc.org_id, names=names, every=every, grace=grace,
                                     force=force, actor=svc.actor, ledger=svc.ledger)


def _which(names: list[str] | None, every: bool, all_of: str) -> str:
    return all_of if every or not names else ", ".join(names)


def _secret_file(path: Path) -> int:
    """Create the output file before rotating (owner-only; an existing file is never overwritten)."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fail(f"{path} exists; name a new file for the passphrases (it is created readable by you only)")
    except OSError as exc:
        fail(f"{path}: cannot create it ({exc.strerror}); choose another --out")


def _write_secrets(fd: int, outcome: psk.RotationOutcome) -> None:
    data = {"rotated": [{"name": r.name, "ssid": r.ssid, "passphrase": r.passphrase.get_secret_value(),
                         "old_passphrase_until": r.grace_until.isoformat()} for r in outcome.rotated]}
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")


@psk_app.command("finish")
@handle_errors
def psk_finish_cmd(
    names: NamesOpt = None,
    every: Annotated[bool, typer.Option("--all", help="Every PSK still keeping an old passphrase.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Finish before the grace period is over.")] = False,
    yes: YesOpt = False,
    org_id: OrgOpt = None,
    mist_host: HostOpt = None,
) -> None:
    """Remove the old passphrase of rotated PSKs once their grace period is over. Exit 2 when refused."""
    early = " even before their grace period is over" if force else ""
    confirm("Remove the old passphrases?", yes=yes, what="the removal", summary=[
        f"remove the old passphrase of {_which(names, every, 'every PSK still keeping one')}{early}: "
        "devices still using it are disconnected"])
    outcome = asyncio.run(_finish(names or [], every, force, org_id, mist_host))
    con = console()
    for name in outcome.finished:
        con.print(f"{name}: old passphrase removed")
    for name, why in sorted({**outcome.skipped, **outcome.refused}.items()):
        con.print(f"{name}: {why}", markup=False)
    for name, why in sorted(outcome.failed.items()):
        con.print(f"{name}: failed: {why}", markup=False)
    if not (outcome.finished or outcome.refused or outcome.failed):
        con.print("no PSK has an old passphrase to remove")
    raise typer.Exit(EXIT_FAILED if outcome.failed else EXIT_INVALID if outcome.refused else 0)


async def _finish(names: list[str], every: bool, force: bool, org_id: str | None,
                  mist_host: str | None) -> psk.FinishOutcome:
    async with open_services(mist_host=mist_host, org_id=org_id) as svc:
        console(stderr=True).print(svc.banner)
        return await psk.finish_rotations(svc.mist, svc.store, svc.org_id, names=names, every=every,
                                          force=force, actor=svc.actor, ledger=svc.ledger)


@psk_app.command("list")
@handle_errors
def psk_list_cmd(org_id: OrgOpt = None, mist_host: HostOpt = None,
                 as_json: Annotated[bool, typer.Option("--json", help="Print the PSKs as JSON.")] = False) -> None:
    """The org's PSKs with their rotation state (no passphrases)."""

    async def states() -> list[dict[str, Any]]:
        async with open_services(mist_host=mist_host, org_id=org_id) as svc:
            psks = await svc.mist.list_psks(svc.org_id)
            return [await rotation_state(svc.store, svc.org_id, p, utcnow()) for p in psks]

    found = asyncio.run(states())
    if as_json:
        echo_json({"psks": found})
    else:
        console().print(psk_state_table(found))


__all__ = ["register", "EXIT_INVALID"]
