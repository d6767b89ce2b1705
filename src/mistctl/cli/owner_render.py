"""How the CLI words owners: the plan's conflict summary, and the owners table of `mistctl status`."""

from __future__ import annotations

from rich.table import Table

from mistctl.cli.render import safe
from mistctl.domain.owners import TAKE_FLAG, describe, is_owner_conflict
from mistctl.domain.plan import Plan


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
