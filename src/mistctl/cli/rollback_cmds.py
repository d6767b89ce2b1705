"""`mistctl rollback RUN`: undo what a run did to the org (its before-images), shown like `plan`, then applied."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console

from mistctl.bootstrap import open_services, open_store_from_env
from mistctl.cli.confirm import confirm
from mistctl.cli.errors import EXIT_FAILED, handle_errors
from mistctl.cli.lock_cmds import LockTimeoutOpt, hold_org
from mistctl.cli.render import console, safe
from mistctl.cli.runids import resolve_run_id, short_id
from mistctl.domain.durations import parse_duration
from mistctl.errors import UserError
from mistctl.store.models import Run, new_run_id
from mistctl.store.port import StateStore
from mistctl.workflow.rollback import (
    RollbackResult,
    apply_rollback,
    plan_rollback,
    prior_rollbacks,
    rollback_run,
)
from mistctl.workflow.rollback_plan import RollbackPlan

VERB = {"delete": "delete", "restore": "restore", "recreate": "recreate"}


def register(app: typer.Typer) -> None:
    """Add the rollback command."""
    app.command("rollback")(rollback_cmd)


@handle_errors
def rollback_cmd(
    run: Annotated[str, typer.Argument(help="The run to undo: its id or first characters (`mistctl status`).",
                                       show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Roll back without asking.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Also undo objects changed since the run (else listed as conflicts, left alone).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the rollback plan only; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan (and the outcome) as JSON.")] = False,
    mist_host: Annotated[str | None, typer.Option("--mist-host", help="Mist cloud host or URL.")] = None,
    lock_timeout: LockTimeoutOpt = "1h",
) -> None:
    """Undo a run: delete what it created, restore what it updated, recreate what it deleted."""
    wait = parse_duration(lock_timeout, what="--lock-timeout")
    code = asyncio.run(_rollback(run, yes=yes, force=force, dry_run=dry_run, as_json=as_json,
                                 mist_host=mist_host, wait=wait))
    raise typer.Exit(code)


async def _target(given: str) -> Run:
    async with open_store_from_env() as store:
        run = await store.get_run(await resolve_run_id(store, given), include_plan=False)
    if run is None:  # pragma: no cover - resolve_run_id found it
        raise UserError(f"no run {given!r}")
    return run


async def _rollback(given: str, *, yes: bool, force: bool, dry_run: bool, as_json: bool,
                    mist_host: str | None, wait: float) -> int:
    target = await _target(given)
    con = console(stderr=as_json)
    async with open_services(mist_host=mist_host, org_id=target.org_id) as svc:
        con.print(safe(svc.banner))
        run_id = new_run_id()
        async with hold_org(svc, run_id, [], wait, con, command="mistctl rollback") as lease:
            plan = await plan_rollback(svc.mist, svc.store, target.id, force=force)
            show_plan(plan, con)
            if plan.is_empty() or dry_run:
                if as_json:
                    typer.echo(json.dumps({"plan": plan.to_json()}, indent=2))
                if dry_run:
                    return 0
                return await _nothing(svc.store, plan, con)
            confirm(f"Roll back run {short_id(target.id)}?", yes=yes, what="the rollback above", out=con)
            await lease.ensure(svc.org_id)  # planning (or the prompt) may have outlasted the lock's lifetime
            run = await svc.store.create_run(rollback_run(plan, actor=svc.actor, run_id=run_id))
            await lease.attach(run)
            con.print(f"run {run.id}: rolling back run {target.id} in org {safe(svc.org_id)}")
            result = await apply_rollback(svc.mist, svc.store, plan, run=run, ledger=svc.ledger,
                                          concurrency=svc.concurrency)
        calls = svc.ledger.total
    show_outcome(result, plan, calls, con)
    if as_json:
        typer.echo(json.dumps({"plan": plan.to_json(), "run_id": run.id, "made": result.made,
                               "failed": result.failed, "writes": result.writes, "calls": calls}, indent=2))
    return 0 if result.ok and not plan.conflicts else EXIT_FAILED


async def _nothing(store: StateStore, plan: RollbackPlan, con: Console) -> int:
    """An empty plan: already rolled back, already as before, or only conflicts (exit 1)."""
    if plan.conflicts:
        con.print(f"Nothing rolled back: {len(plan.conflicts)} object(s) changed since the run; review them, "
                  "then pass --force to undo them anyway.")
        return EXIT_FAILED
    prior = [r for r in await prior_rollbacks(store, plan.run_id) if r.status == "completed"]
    if prior:
        by = prior[-1]
        con.print(f"Nothing to do: run {plan.run_id} was already rolled back by run {by.id} "
                  f"({by.finished_at or by.created_at:%Y-%m-%d %H:%M:%S UTC}).")
    else:
        con.print(f"Nothing to do: the org is already as it was before run {plan.run_id}.")
    return 0


def plan_lines(plan: RollbackPlan) -> list[str]:
    """The plan in lines, like `mistctl plan --detail`."""
    lines = [f"  {VERB[u.action]:9} {u.kind} {u.key}" + (f" ({u.note})" if u.note else "") for u in plan.undo]
    lines += [f"  conflict  {label}: {why}" for label, why in plan.conflicts.items()]
    lines += [f"  kept      {label}: {why}" for label, why in plan.kept.items()]
    lines += [f"  note: {note}" for note in plan.notes]
    return lines


def show_plan(plan: RollbackPlan, con: Console) -> None:
    """Print the rollback plan and its summary line (with what it cost to read)."""
    con.print(f"Rollback of run {plan.run_id} (org {safe(plan.org_id)}):", markup=False)
    for line in plan_lines(plan):
        con.print(safe(line), soft_wrap=True)
    s = plan.summary()
    con.print(f"{s['delete']} to delete, {s['restore']} to restore, {s['recreate']} to recreate; "
              f"{s['done']} already as before the run, {s['conflicts']} conflict(s), {s['kept']} kept; "
              f"estimated API calls: {len(plan.undo)} (plus {plan.read_calls} spent reading)", markup=False)


def show_outcome(result: RollbackResult, plan: RollbackPlan, calls: int, con: Console) -> None:
    """What the rollback did."""
    for label, why in result.failed.items():
        con.print(safe(f"failed   {label}: {why}"), soft_wrap=True)
    if result.released:
        con.print(f"released {len(result.released)} device(s) back to the org inventory: "
                  + ", ".join(result.released), markup=False)
    verdict = "rolled back" if result.ok and not plan.conflicts else "partly rolled back"
    con.print(f"run {plan.run_id} {verdict}: {len(result.made)} undone, {len(result.failed)} failed, "
              f"{len(plan.conflicts)} conflict(s) left; {result.writes} writes, {calls} API calls in all",
              markup=False)
    if result.failed:
        con.print(f"run `mistctl rollback {plan.run_id}` again to retry what failed", markup=False)
