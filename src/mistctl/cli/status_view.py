"""`mistctl status` and `mistctl audit`: what the state store recorded (no Mist calls)."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.table import Table

from mistctl.bootstrap import open_store_from_env
from mistctl.cli.json_out import echo_json
from mistctl.cli.plan_view import owners_table
from mistctl.cli.render import console, safe
from mistctl.cli.runids import resolve_run_id, short_id
from mistctl.cli.timefmt import human_time
from mistctl.domain.kinds import ORG_KINDS, STEP_NAMES
from mistctl.errors import UserError
from mistctl.store.models import Run
from mistctl.store.port import StateStore
from mistctl.workflow.runlock import shown_status


def _when(value: object) -> str:
    return human_time(value) if isinstance(value, datetime) else "-"


async def show_status(*, run_id: str | None, site: str | None, as_json: bool = False) -> None:
    """Recent runs, site counts and the owners of org objects; or one run; or one site with its step history."""
    con = console()
    async with open_store_from_env() as store:
        if site is not None:
            await _show_site(store, site, as_json, con)
            return
        if run_id:
            run_id = await resolve_run_id(store, run_id)
        runs = [await store.get_run(run_id)] if run_id else await store.list_runs(limit=10)
        if run_id and runs[0] is None:
            raise UserError(f"no run {run_id!r}; `mistctl status` lists recent runs")
        shown = await shown_status(store, [r for r in runs if r is not None])
        counts = await store.count_site_states_by_status()
        owned = await _owners(store, sorted({r.org_id for r in shown}))
        if as_json:
            echo_json({"runs": [r.model_dump(mode="json", exclude={"plan"}) for r in shown], "sites": counts,
                       "owners": [{"org_id": o, "kind": k, "key": key, "owner": w} for o, k, key, w in owned]})
            return
        con.print(_runs_table(shown))
        con.print("sites: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        if owned:
            con.print(owners_table(owned))


async def _show_site(store: StateStore, site: str, as_json: bool, con: Console) -> None:
    """One site's recorded state and its step records."""
    state = await store.get_site_state(None, site)
    if state is None:
        raise UserError(f"no recorded state for site {site!r}; has it been applied?")
    steps = await store.get_steps(state.org_id, site=site)
    if as_json:
        echo_json({"site": state, "steps": steps})
        return
    con.print(f"site {safe(state.name)}: [bold]{state.status}[/bold] (Mist id {safe(state.site_id or '-')}, "
              f"zone {safe(state.zone)}, number {state.number}, last run {state.last_run_id or '-'})")
    if state.error:
        con.print(f"  failed at step {state.failed_step}: {safe(state.error, lines=True)}")
    table = Table(title=f"steps of {safe(site)}")
    for col in ("step", "kind", "key", "status", "mist id", "updated", "error"):
        table.add_column(col)
    for r in steps:
        table.add_row(str(r.step), safe(r.kind), safe(r.key), r.status, safe(r.mist_id or ""),
                      _when(r.updated_at), safe(r.error or ""))
    con.print(table)


async def _owners(store: StateStore, orgs: list[str]) -> list[tuple[str, str, str, str | None]]:
    """(org, kind, key, owner) of every org object recorded in the orgs of the runs shown."""
    rows: list[tuple[str, str, str, str | None]] = []
    for org_id in orgs:
        for kind in ORG_KINDS:
            refs = await store.get_objects(org_id, kind.key)
            rows += [(org_id, kind.key, key, ref.owner) for key, ref in refs.items()]
    return rows


def _runs_table(runs: list[Run]) -> Table:
    table = Table(title="runs")
    table.add_column("id", no_wrap=True)  # short: `--run` takes it (cli/runids.py)
    table.add_column("kind", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for col in ("created", "finished", "counts", "error"):
        table.add_column(col)
    for r in runs:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(r.counts.items()))
        table.add_row(short_id(r.id), safe(r.kind), r.status, _when(r.created_at), _when(r.finished_at),
                      safe(counts), safe((r.error or "")[:160]))
    return table


async def show_audit(*, run_id: str | None, limit: int, as_json: bool = False) -> None:
    """The newest audit entries (writes made to Mist)."""
    con = console()
    async with open_store_from_env() as store:
        if run_id:
            run_id = await resolve_run_id(store, run_id)
        entries = await store.list_audit(run_id=run_id, limit=limit, newest_first=True)
    if as_json:
        echo_json({"entries": entries})
        return
    table = Table(title="audit log (newest first)")
    for col in ("time", "run", "method", "path", "kind", "name", "mist id", "status", "ms"):
        table.add_column(col)
    for e in entries:
        table.add_row(_when(e.ts), short_id(e.run_id), safe(e.method), safe(e.path), safe(e.kind or ""),
                      safe(e.name or ""), safe(e.mist_id or ""), str(e.status), f"{e.duration_ms:.0f}")
    con.print(table)
    if not entries:
        con.print(f"no writes recorded for run {short_id(run_id)}" if run_id else "no writes recorded yet")


__all__ = ["show_status", "show_audit", "STEP_NAMES"]
