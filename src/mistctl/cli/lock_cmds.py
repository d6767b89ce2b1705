"""The org lock on the command line: `apply` waits for it (`--lock-timeout`), `mistctl unlock` frees it.

Every run of an org takes `org:{org_id}` before it reads the plan (`mistctl.workflow.runlock`); a run
that is killed leaves it until it lapses (a minute for the CLI, ten for a worker). `mistctl unlock ORG`
frees it at once, with the site locks of the same run, and records the run `interrupted`.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from mistctl.cli.errors import EXIT_FAILED, fail, handle_errors
from mistctl.cli.render import console, safe
from mistctl.errors import UserError
from mistctl.fleetio import load_fleet
from mistctl.store.models import LockInfo, utcnow
from mistctl.store.port import StateStore
from mistctl.workflow.runlock import (
    Busy,
    LockLost,
    RunLease,
    holder_gone,
    holder_line,
    interrupted_note,
    org_lock,
    org_run,
    site_lock,
)

if TYPE_CHECKING:
    from mistctl.bootstrap import Services

DEFAULT_LOCK_TIMEOUT = 3600.0
LockTimeoutOpt = Annotated[str, typer.Option(
    "--lock-timeout", help="How long to wait for another run of the org to end (0: refuse at once).")]


def register(app: typer.Typer) -> None:
    """Add the `unlock` command."""
    app.command("unlock")(unlock_cmd)


def describe(info: LockInfo) -> str:
    """Who holds a lock, in one line (the holder's text escaped for Rich)."""
    who = f"run {info.owner}" + (f" ({info.holder})" if info.holder else "")
    return safe(f"{who}, lapses at {info.expires_at.strftime('%H:%M:%S UTC')} unless renewed")


@asynccontextmanager
async def hold_org(svc: Services, run_id: str, sites: Sequence[str], wait: float,
                   con: Console, command: str = "mistctl apply") -> AsyncIterator[RunLease]:
    """The org lock and the sites', waited for up to `wait` seconds, saying for whom; exit 1 when busy."""
    def waiting(info: LockInfo) -> None:
        con.print(f"waiting for the lock of org {safe(svc.org_id)}: held by {describe(info)}")

    holder = holder_line(command, svc.actor)
    try:
        async with org_run(svc.store, svc.org_id, run_id, holder=holder, wait=wait, sites=sites,
                           on_wait=waiting) as lease:
            yield lease
    except LockLost as exc:
        fail(str(exc), EXIT_FAILED)
    except Busy as exc:
        fail(f"{exc} (waited {wait:g} s; --lock-timeout sets how long)", EXIT_FAILED)


@handle_errors
def unlock_cmd(
    org_id: Annotated[str, typer.Argument(help="The org whose lock to free.", show_default=False)],
    run_id: Annotated[str | None, typer.Option("--run", help="Only if this run holds it.")] = None,
    fleet_file: Annotated[Path | None, typer.Option("--fleet", help="Free its sites' locks too.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Free an org's lock left by a run whose process died (as `terraform force-unlock`)."""
    sites = [s.name for s in load_fleet(fleet_file).sites] if fleet_file else []
    asyncio.run(_unlock(org_id, run_id, sites, yes=yes))


async def _unlock(org_id: str, run_id: str | None, sites: list[str], *, yes: bool) -> None:
    con = console()
    from mistctl.bootstrap import open_store_from_env  # the settings and the store: not for `--help`

    async with open_store_from_env() as store:
        info = await store.get_lock(org_lock(org_id))
        if info is None or (run_id is not None and info.owner != run_id):
            raise UserError(f"org {org_id} is not locked" + (f" by run {run_id}" if run_id else "")
                            + "; nothing to unlock")
        con.print(f"org {safe(org_id)} is locked by {describe(info)}")
        if not holder_gone(info.holder) and _on_this_host(info.holder):
            con.print("[yellow]warning[/]: that process is still running on this host; unlocking lets another "
                      "run start beside it")
        if not yes:
            if not sys.stdin.isatty():
                raise UserError("not on a terminal, so there is nobody to confirm: pass --yes")
            if not typer.confirm("Is that process gone? Unlock the org", default=False):
                raise typer.Exit(1)
        freed = await _break(store, org_id, info.owner, sites)
        how = "roll back the same run again" if "mistctl rollback" in info.holder else "apply the fleet again"
        con.print(f"unlocked org {safe(org_id)} ({freed} lock(s) freed); run {info.owner} is interrupted: "
                  f"{how} to resume it")


def _on_this_host(holder: str) -> bool:
    return f" on {socket.gethostname()} pid " in holder


async def _break(store: StateStore, org_id: str, owner: str, sites: list[str]) -> int:
    """Break the org lock and the run's site locks; record the run interrupted (if it was recorded)."""
    run = await store.get_run(owner)
    if run is not None:
        sites = [*sites, *(c.get("site") for c in run.plan.get("changes", []) if c.get("site"))]
    names = [org_lock(org_id), *(site_lock(org_id, s) for s in dict.fromkeys(sites))]
    freed = sum([await store.break_lock(n, owner) is not None for n in names])
    if run is not None and not run.is_terminal:
        await store.update_run(owner, status="interrupted", finished_at=utcnow(), error=interrupted_note(run))
    return freed
