"""`mistctl dedupe FLEET`: delete the younger duplicates mistctl created, after confirmation.

Holds the org lock like `apply` (nothing else runs beside it), plans, and proposes: for each conflict
the oldest copy is kept; younger copies whose POST is in mistctl's audit log are deleted; any other copy
is named and left alone. Exit 0 when no conflict is left, 1 otherwise, 2 on bad input or no confirmation.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mistctl.bootstrap import Services, open_services
from mistctl.cli.deploy_cmds import FleetArg, HostOpt, OrgOpt
from mistctl.cli.errors import EXIT_FAILED, EXIT_INVALID, handle_errors
from mistctl.cli.lock_cmds import LockTimeoutOpt, hold_org
from mistctl.cli.render import console, safe
from mistctl.domain.durations import parse_duration
from mistctl.domain.fleet import Fleet
from mistctl.errors import UserError
from mistctl.fleetio import load_fleet
from mistctl.store.models import Run, new_run_id, utcnow
from mistctl.workflow import deploy
from mistctl.workflow.dedupe import Duplicate, Proposal, created_by_mistctl, delete_duplicates, propose
from mistctl.workflow.records import Records


def register(app: typer.Typer) -> None:
    """Add the `dedupe` command."""
    app.command("dedupe")(dedupe_cmd)


@handle_errors
def dedupe_cmd(
    fleet_file: FleetArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    org_id: OrgOpt = None,
    mist_host: HostOpt = None,
    lock_timeout: LockTimeoutOpt = "1h",
) -> None:
    """Delete the younger duplicates of the fleet's objects that mistctl itself created (its audit log)."""
    fleet = load_fleet(fleet_file)
    wait = parse_duration(lock_timeout, what="--lock-timeout")
    raise typer.Exit(asyncio.run(_dedupe(fleet, yes=yes, org_id=org_id, mist_host=mist_host,
                                         wait=wait)))


async def _dedupe(fleet: Fleet, *, yes: bool, org_id: str | None, mist_host: str | None,
                  wait: float) -> int:

    con = console()
    async with open_services(mist_host=mist_host, org_id=org_id or fleet.org_id) as svc:
        con.print(safe(svc.banner))
        run_id = new_run_id()
        async with hold_org(svc, run_id, [], wait, con) as lease:
            planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, concurrency=svc.concurrency)
            proposal = propose(planned.plan, await created_by_mistctl(svc.store))
            _show(proposal, con)
            if not proposal.delete:
                con.print("nothing to delete: no duplicate of the fleet's objects was created by mistctl")
                return EXIT_FAILED if proposal.left else 0
            if not _confirmed(yes, len(proposal.delete), con):
                return EXIT_INVALID
            await lease.ensure(svc.org_id)  # planning (or the prompt) may have outlasted the lock's lifetime
            run = await svc.store.create_run(Run(id=run_id, kind="dedupe", org_id=svc.org_id, status="running",
                                                 started_at=utcnow(), requested_by=svc.actor))
            await lease.attach(run)
            return await _delete(svc, run, proposal, con)


async def _delete(svc: Services, run: Run, proposal: Proposal, con: Console) -> int:
    records = Records(svc.store, svc.org_id, run.id, actor=svc.actor, ledger=svc.ledger)
    errors = await delete_duplicates(svc.mist, records, proposal.delete)
    await records.flush_audit()
    status = "failed" if errors else "completed"
    error = "; ".join(f"{i}: {e}" for i, e in errors.items()) or None
    await svc.store.update_run(run.id, status=status, finished_at=utcnow(), error=error)
    con.print(f"run {run.id}: {len(proposal.delete) - len(errors)} duplicate(s) deleted, {len(errors)} failed")
    for mist_id, why in errors.items():
        con.print(safe(f"  {mist_id}: {why}"))
    return EXIT_FAILED if errors or proposal.left else 0


def _confirmed(yes: bool, count: int, con: Console) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UserError("not on a terminal, so there is nobody to confirm: review the duplicates, then pass --yes")
    if typer.confirm(f"Delete these {count} duplicate(s) from Mist?", default=False):
        return True
    con.print("Nothing deleted.")
    return False


def _show(proposal: Proposal, con: Console) -> None:
    if proposal.delete:
        con.print(_table("duplicates mistctl created (to delete; the oldest copy is kept)", proposal.delete))
    if proposal.left:
        con.print(_table("duplicates mistctl did not create (left alone: resolve them in Mist)", proposal.left))


def _table(title: str, dups: list[Duplicate]) -> Table:
    table = Table(title=title)
    for col in ("kind", "name", "id", "created", "kept copy", "created by run"):
        table.add_column(col, no_wrap=col in ("id", "kept copy", "created by run"))  # ids whole: they are used
    for d in dups:
        table.add_row(*(safe(v) for v in (d.kind, d.key, d.mist_id, _when(d.created_time), d.keep_id,
                                          d.run_id or "-")))
    return table


def _when(value: float | None) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "?"
