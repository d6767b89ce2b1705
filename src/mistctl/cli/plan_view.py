"""How `plan` and `apply` show a plan: the targeted headline, the table, problems, the summary, the ETA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mistctl.cli.render import console, format_eta, plan_table, safe
from mistctl.domain.plan import Plan
from mistctl.domain.targets import headline


def print_plan(plan: Plan, eta: float, lines: list[str], out: Path | None,
                budgets: list[str] | None = None, con: Any = None) -> None:
    """The plan table (with its target's headline), problems, `lines`, the summary and the ETA."""
    con = con or console()
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
        con.print(f"[red]{len(plan.fatal_problems)} conflict(s) in the live org[/red]: apply refuses until they "
                  "are resolved (delete the younger duplicates named above, or run `mistctl dedupe FLEET`)")
    elif plan.is_empty():
        con.print("[green]No changes: the target's objects match the fleet.[/green]" if plan.target is not None
                  else "[green]No changes: the org matches the fleet.[/green]")
    if out is not None:
        con.print(f"plan saved to {out}; apply it with: mistctl apply {out}")
