"""The SLE gate between rollout waves: the wave's sites after the soak, against the threshold and the
baseline taken before the wave. A metric fails when it ends below the threshold, or more than
`max_drop` below its baseline (a healthy site that got clearly worse is a bad canary too).

Before a wave (and before a re-run goes on), a site below the threshold is judged by who degraded it:
when every failing metric's family is served there by devices this rollout is about to change and
that run a version mistctl put on them (a bad canary not yet rolled back), the rollout may go on: it
is the remedy. Any other failing site was degraded by something else: its devices are skipped, and
the report says so."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from mistctl.mist.models_day2 import ORG_SLE_KEYS
from mistctl.workflow.assure import HealthReport

FAMILY_OF_KEY = {key: family for family, keys in ORG_SLE_KEYS.items() for key in keys}


@dataclass
class Gate:
    """One gate: the wave (0: sites already running the version), the sites and the failing metrics."""

    wave: int
    threshold: float
    max_drop: float
    sites: list[str] = field(default_factory=list)
    failing: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)
    before: bool = False  # a gate before the wave's upgrades (its failing sites are skipped or allowed)
    allowed: list[str] = field(default_factory=list)  # below the threshold because of mistctl's own devices
    no_data: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"wave": self.wave, "threshold": self.threshold, "max_drop": self.max_drop, "sites": self.sites,
                "passed": not self.failing and not self.no_data, "failing": self.failing, "before": self.before,
                "allowed": self.allowed, "no_data": self.no_data}


def degraded_by_others(gate: Gate, own: Mapping[str, Set[str]]) -> list[str]:
    """The failing sites of `gate` not explained by the rollout's own devices (`own`: site -> families)."""
    others = []
    for site, metrics in sorted(gate.failing.items()):
        families = {FAMILY_OF_KEY.get(m, m) for m in metrics}
        if families <= own.get(site, set()):
            gate.allowed.append(site)
        else:
            others.append(site)
    return others


def compare(wave: int, baseline: HealthReport | None, after: HealthReport, max_drop: float,
            lenient: Set[str] = frozenset()) -> Gate:
    """The metrics of `after` that fail the threshold or fell more than `max_drop` below `baseline`.

    `lenient` sites (below the threshold before the wave because of mistctl's own devices) fail on a drop only.
    """
    before = {s.name: s.values for s in baseline.sites} if baseline is not None else {}
    gate = Gate(wave, after.threshold, max_drop, sites=[s.name for s in after.sites])
    for site in after.sites:
        for metric, value in sorted(site.values.items()):
            if value is None:
                continue
            base = before.get(site.name, {}).get(metric)
            low = value < after.threshold and site.name not in lenient
            if low or (base is not None and value < base - max_drop):
                gate.failing.setdefault(site.name, {})[metric] = {"before": base, "after": value}
    return gate


def gate_reason(gate: Gate, version: str, *, resumed: bool = False, before: bool = False,
                only: Set[str] | None = None) -> str:
    """Why the rollout stopped (or skipped sites), naming the sites, metrics and values."""
    parts = []
    for site, metrics in sorted(gate.failing.items()):
        if only is not None and site not in only:
            continue
        values = ", ".join(
            f"{m} {v['after']:.2f}" + (f" (baseline {v['before']:.2f})" if v["before"] is not None else "")
            for m, v in sorted(metrics.items()) if v["after"] is not None)
        parts.append(f"{site}: {values}")
    where = "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more site(s)" if len(parts) > 5 else "")
    if resumed:
        return (f"sites already running {version} are below the SLE threshold {gate.threshold:.2f}, so no more "
                f"devices get it: {where}")
    if before:
        return (f"wave {gate.wave}: skipped sites below the SLE threshold {gate.threshold:.2f} before the upgrade "
                f"for reasons outside this rollout (their devices were left alone): {where}")
    return (f"wave {gate.wave}: SLE gate failed after {version} (threshold {gate.threshold:.2f}, "
            f"max drop {gate.max_drop:.2f}): {where}")
