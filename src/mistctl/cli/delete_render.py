"""What the CLI says about deletes: the ones made, the ones kept (and how to make them), the ones failed."""

from __future__ import annotations

from mistctl.domain.plan import Plan
from mistctl.workflow.delete import DeleteConsent, label, refusal
from mistctl.workflow.delete_outcome import DeleteOutcome

HOW = ("to delete them, apply again with --allow-delete (and --release-devices for a site that still has "
       "devices: they go back to the org inventory, never unclaimed)")
DRIFT_HOW = ("to remove them, run `mistctl drift FLEET --fix --allow-delete` (and --release-devices for a site "
             "that still has devices)")


def nothing_to_do(plan: Plan, consent: DeleteConsent) -> bool:
    """True when every write of the plan is a delete this consent keeps: apply has nothing to do."""
    writes = [c for c in plan.changes if c.writes]
    return bool(writes) and all(c.action == "delete" and refusal(c, consent) for c in writes)


def kept_lines(plan: Plan, consent: DeleteConsent, *, how: str = HOW) -> list[str]:
    """The plan's deletes this consent keeps, one line each, then how to make them."""
    kept = [(label(c), refusal(c, consent)) for c in plan.deletes]
    lines = [f"  kept {name}: {why}" for name, why in kept if why]
    return [*lines, how] if lines else []


def outcome_lines(outcome: DeleteOutcome, *, how: str = HOW) -> list[str]:
    """After an apply: deletes made, released devices, kept and failed."""
    lines = [f"  deleted {name}" for name in outcome.deleted]
    if outcome.released:
        lines.append(f"  {len(outcome.released)} device(s) unassigned back to the org inventory")
    if outcome.unclaimed:
        lines.append(f"  {len(outcome.unclaimed)} device(s) unclaimed: out of the org inventory")
    lines += [f"  kept {name}: {why}" for name, why in outcome.kept.items()]
    lines += [f"  delete FAILED {name}: {err}" for name, err in outcome.failed.items()]
    if outcome.kept and any("--allow-delete" in why or "--release-devices" in why for why in outcome.kept.values()):
        lines.append(how)
    return lines
