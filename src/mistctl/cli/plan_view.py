"""How the CLI shows a plan (`mistctl plan`, `mistctl apply`): the owner and the targeted headline, the table,
problems, detail lines, the summary, the ETA and conflicts; and the owners table of `mistctl status`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from mistctl.cli.render import console, format_eta, plan_table, safe
from mistctl.domain.owners import TAKE_FLAG, Ownership, describe, is_owner_conflict
from mistctl.domain.plan import Plan
from mistctl.domain.targets import headline


def conflict_summary(plan: Plan) -> list[str]:
    """The lines under a plan with conflicts: duplicates in the live org, and other owners' objects."""
    lines: list[str] = []
    owned = [p for p in plan.fatal_problems if is_owner_conflict(p)]
    live = [p for p in plan.fatal_problems if not is_owner_conflict(p)]
    if live:
        lines.append(f"[red]{len(live)} conflict(s) in the live org[/red]: apply refuses until they are resolved "
                     "(delete the younger duplicates named above, or run `mistctl dedupe FLEET`)")
    if owned:
        owners = ", ".join(sorted({describe(p.owner) for p in owned}))
        lines.append(f"[red]{len(owned)} conflict(s) with another owner[/red] ({safe(owners)}): apply refuses "
                     f"to change them unless given {TAKE_FLAG}, which records this fleet as their owner")
    return lines


def owners_table(rows: list[tuple[str, str, str, str | None]]) -> Table:
    """One row per recorded org object: org, kind, key, owner."""
    table = Table(title="org objects by owner")
    for col in ("owner", "kind", "object", "org"):
        table.add_column(col)
    for org_id, kind, key, owner in sorted(rows, key=lambda r: (r[3] or "", r[1], r[2], r[0])):
        table.add_row(safe(describe(owner)), safe(kind), safe(key), safe(org_id))
    return table


def print_plan(plan: Plan, eta: float, lines: list[str], out: Path | None,
               budgets: list[str] | None = None, con: Any = None, ownership: Ownership | None = None) -> None:
    """The plan table (with its owner and its target's headline), problems, `lines`, the summary line, and
    the conflicts or "No changes" under it."""
    con = con or console()
    if ownership is not None:
        con.print(safe(f"owner: {ownership.describe()}"), soft_wrap=True)
    if plan.target is not None:
        con.print(headline(plan.target), markup=False)
    con.print(plan_table(plan))
    for p in plan.problems:
        where = f" (site {p.site})" if p.site else ""
        con.print(f"[{'red' if p.fatal else 'yellow'}]{'conflict' if p.fatal else 'warning'}[/]: "
                  + safe(f"{p.kind} {p.key}{where}: {p.message}"), soft_wrap=True)  # one line, whole ids
    for line in lines:
        con.print(line, markup=False, soft_wrap=True)
    s = plan.summary()
    con.print(f"{s['create']} to create, {s['update']} to update, {s['delete']} to delete, {s['unchanged']} unchanged; "
              f"estimated API calls: {plan.estimated_calls} (plus {plan.read_calls} spent reading); "
              f"ETA {format_eta(eta)}")
    for line in budgets or ():
        con.print(f"API budget: {line}", markup=False)
    if plan.fatal_problems:
        for line in conflict_summary(plan):
            con.print(line)
    elif plan.is_empty():
        con.print("[green]No changes: the target's objects match the fleet.[/green]" if plan.target is not None
                  else "[green]No changes: the org matches the fleet.[/green]")
    if out is not None:
        con.print(f"plan saved to {out}; apply it with: mistctl apply {out}")
