"""The SLE gate between rollout waves: the wave's sites after the soak, against the threshold and the
baseline taken before the wave. A metric fails when it ends below the threshold, or more than
`max_drop` below its baseline (a healthy site that got clearly worse is a bad canary too)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mistctl.workflow.assure import HealthReport


@dataclass
class Gate:
    """One gate: the wave (0: sites already running the version), the sites and the failing metrics."""

    wave: int
    threshold: float
    max_drop: float
    sites: list[str] = field(default_factory=list)
    failing: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"wave": self.wave, "threshold": self.threshold, "max_drop": self.max_drop, "sites": self.sites,
                "passed": not self.failing, "failing": self.failing}


def compare(wave: int, baseline: HealthReport | None, after: HealthReport, max_drop: float) -> Gate:
    """The metrics of `after` that fail the threshold or fell more than `max_drop` below `baseline`."""
    before = {s.name: s.values for s in baseline.sites} if baseline is not None else {}
    gate = Gate(wave, after.threshold, max_drop, sites=[s.name for s in after.sites])
    for site in after.sites:
        for metric, value in sorted(site.values.items()):
            if value is None:
                continue
            base = before.get(site.name, {}).get(metric)
            if value < after.threshold or (base is not None and value < base - max_drop):
                gate.failing.setdefault(site.name, {})[metric] = {"before": base, "after": value}
    return gate


def gate_reason(gate: Gate, version: str, *, resumed: bool = False, before: bool = False) -> str:
    """Why the rollout stopped, naming the sites, metrics and values."""
    parts = []
    for site, metrics in sorted(gate.failing.items()):
        values = ", ".join(
            f"{m} {v['after']:.2f}" + (f" (baseline {v['before']:.2f})" if v["before"] is not None else "")
            for m, v in sorted(metrics.items()) if v["after"] is not None)
        parts.append(f"{site}: {values}")
    where = "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more site(s)" if len(parts) > 5 else "")
    if resumed:
        return (f"sites already running {version} are below the SLE threshold {gate.threshold:.2f}, so no more "
                f"devices get it: {where}")
    if before:
        return (f"wave {gate.wave}: sites below the SLE threshold {gate.threshold:.2f} before the upgrade "
                f"(nothing was upgraded in this wave; fix them or leave them out of the fleet): {where}")
    return (f"wave {gate.wave}: SLE gate failed after {version} (threshold {gate.threshold:.2f}, "
            f"max drop {gate.max_drop:.2f}): {where}")
