"""An upgrade run's page: its waves, every device's version before and after, each gate's SLEs and verdict.

Read from the run alone (no Mist calls): a rollout keeps its report in the run's plan once it ends
(`workflow.rollout`); while it runs, the page says so and shows the version it installs. The gates
record the failing SLE values (before and after the wave); the SLE values a site holds now come from
its recorded state (the last assurance check or gate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mistctl.api.context import AppContext
from mistctl.store.models import Run

UPGRADE_KINDS = frozenset({"upgrade"})


@dataclass(frozen=True)
class GateRow:
    """One gate: which wave, its sites, its verdict, and the SLE values that failed it."""

    wave: int
    before: bool
    threshold: float | None
    max_drop: float | None
    sites: list[str]
    passed: bool
    failing: list[tuple[str, str, float | None, float | None]]  # site, metric, before, after
    no_data: list[str]
    allowed: list[str]

    @property
    def passing(self) -> list[str]:
        """The gate's sites with no failing SLE and with data."""
        out = {f[0] for f in self.failing} | set(self.no_data)
        return [s for s in self.sites if s not in out]

    @property
    def verdict(self) -> str:
        if self.passed:
            return "passed"
        return "failed" if self.failing else "held: no SLE data"


@dataclass
class UpgradePage:
    run: Run
    report: dict[str, Any] | None
    version: str
    waves: list[dict[str, Any]] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)
    gates: list[GateRow] = field(default_factory=list)
    sle_now: dict[str, dict[str, float | None]] = field(default_factory=dict)

    @property
    def device_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in self.devices:
            counts[str(d.get("status"))] = counts.get(str(d.get("status")), 0) + 1
        return counts


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def gate_row(raw: dict[str, Any]) -> GateRow:
    """A gate of the report as the page shows it."""
    failing = [(str(site), str(metric), _number(pair.get("before")), _number(pair.get("after")))
               for site, metrics in sorted((raw.get("failing") or {}).items())
               for metric, pair in sorted(metrics.items()) if isinstance(pair, dict)]
    return GateRow(wave=int(raw.get("wave") or 0), before=bool(raw.get("before")),
                   threshold=_number(raw.get("threshold")), max_drop=_number(raw.get("max_drop")),
                   sites=[str(s) for s in raw.get("sites") or []], passed=bool(raw.get("passed")),
                   failing=failing, no_data=[str(s) for s in raw.get("no_data") or []],
                   allowed=[str(s) for s in raw.get("allowed") or []])


async def upgrade_page(ctx: AppContext, run: Run) -> UpgradePage:
    """The page's data: the run's report when it ended (and the gate sites' recorded SLEs)."""
    plan = run.plan or {}
    report = plan.get("report") if isinstance(plan.get("report"), dict) else None
    view = UpgradePage(run, report, str((report or plan).get("version") or "unknown"))
    if report is None:
        return view
    view.waves = [w for w in report.get("waves") or [] if isinstance(w, dict)]
    view.devices = [d for d in report.get("devices") or [] if isinstance(d, dict)]
    view.gates = [gate_row(g) for g in report.get("gates") or [] if isinstance(g, dict)]
    for site in sorted({s for g in view.gates for s in g.sites})[:200]:
        state = await ctx.store.get_site_state(run.org_id, site)
        if state is not None and state.sle:
            view.sle_now[site] = dict(sorted(state.sle.items()))
    return view
