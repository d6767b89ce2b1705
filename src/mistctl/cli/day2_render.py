"""Rich renderings of the Day 2 commands: drift differences, SLE health, rollout reports, PSK rotations."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table

from mistctl.cli.timefmt import human_duration, human_time
from mistctl.domain.owners import TAKE_FLAG, describe, is_owner_conflict
from mistctl.workflow.drift import DriftReport

MAX_ROWS = 200


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def drift_table(report: DriftReport) -> Table:
    """One row per difference: object, field, what, live value, fleet value."""
    table = Table(title=f"Drift in org {report.org_id}")
    for col in ("kind", "object", "site / in", "field", "what", "live", "fleet", "owner"):
        table.add_column(col)
    for d in report.differences[:MAX_ROWS]:
        table.add_row(d.kind, d.key, d.site or d.container or "", d.field, d.what, _cell(d.live), _cell(d.desired),
                      describe(d.owner) if d.owner else "")
    if len(report.differences) > MAX_ROWS:
        table.add_row(f"... {len(report.differences) - MAX_ROWS} more (see --json)", "", "", "", "", "", "", "")
    return table


def drift_summary(report: DriftReport) -> str:
    """The line under the table: how many objects differ, what the fix costs, what reading cost."""
    cost = f"{report.read_calls} read calls ({report.settings_read} site settings)"
    if not report.drifted:
        return f"No drift: the org matches the fleet. {cost}."
    objects = len({(d.kind, d.key, d.site) for d in report.differences})
    removals = len(report.planned.plan.deletes)
    how = "`mistctl drift --fix`" + (f"; {removals} removal(s) only with --allow-delete" if removals else "")
    owned = [p for p in report.planned.plan.fatal_problems if is_owner_conflict(p)]
    others = (f" {len(owned)} of them another owner's ({', '.join(sorted({describe(p.owner) for p in owned}))}): "
              f"the fix changes them only with {TAKE_FLAG}." if owned else "")
    return (f"{len(report.differences)} difference(s) in {objects} object(s); fixing takes "
            f"{report.planned.plan.estimated_calls} write call(s) ({how}).{others} {cost}.")


def health_table(report: Any) -> Table:
    """Each site's SLE values; failing metrics in red, sites failing first."""
    table = Table(title=f"SLE health (threshold {report.threshold:.2f})")
    for col in ("site", "status", "failing", "values"):
        table.add_column(col)
    rows = sorted(report.sites, key=lambda s: (s.status != "fail", s.status != "no-data", s.name))
    for site in rows[:MAX_ROWS]:
        failing = ", ".join(f"{m} {v:.2f}" for m, v in sorted(site.failing.items()))
        values = ", ".join(f"{m} {v:.2f}" for m, v in sorted(site.values.items()) if v is not None)
        status = {"fail": "[red]fail[/red]", "pass": "[green]pass[/green]"}.get(site.status,
                                                                              "[yellow]no-data[/yellow]")
        table.add_row(site.name, status, failing, values or "-")
    if len(rows) > MAX_ROWS:
        table.add_row(f"... {len(rows) - MAX_ROWS} more (see --json)", "", "", "")
    return table


def psk_rotation_table(rotated: list[Any], *, reveal: bool) -> Table:
    """The PSKs rotated; the new passphrases only when `reveal` (shown once, never again)."""
    table = Table(title="PSKs rotated")
    for col in ("name", "ssid", "new passphrase", "old passphrase accepted until"):
        table.add_column(col)
    for r in rotated:
        shown = r.passphrase.get_secret_value() if reveal else "(written to the file)"
        table.add_row(r.name, r.ssid, shown, human_time(r.grace_until))
    return table


def psk_state_table(states: list[dict[str, Any]]) -> Table:
    """PSKs with their rotation state (no secrets)."""
    table = Table(title="PSKs")
    for col in ("name", "ssid", "old passphrase kept", "rotated by mistctl", "grace left"):
        table.add_column(col)
    for s in states:
        left = s["grace_left_seconds"]
        table.add_row(str(s["name"]), str(s.get("ssid") or ""), "yes" if s["old_passphrase_kept"] else "no",
                      human_time(s["rotated_at"]) if s["rotated_at"] else "no", human_duration(left))
    return table
