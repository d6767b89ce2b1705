"""What a rollout reports: every device's version before and now, the waves, the gates, why it stopped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mistctl.workflow.rollout_gate import Gate
from mistctl.workflow.rollout_plan import Target, Wave


@dataclass
class DeviceReport:
    """Where one device stands: its version before and now, and what the rollout did to it."""

    target: Target
    status: str  # already, upgraded, failed, timeout, untouched, planned, skipped, rolled-back, rollback-failed
    wave: int | None = None
    after: str | None = None
    why: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {**self.target.to_json(), "before": self.target.version, "now": self.after or self.target.version,
                "wanted": self.target.want, "status": self.status, "wave": self.wave, "why": self.why}


@dataclass
class RolloutReport:
    """The rollout's outcome: waves, every device's version, gates, and why it stopped."""

    org_id: str
    version: str
    status: str = "completed"  # completed, halted, held (no SLE data), incomplete (sites skipped), dry-run
    reason: str | None = None
    run_id: str | None = None
    waves: list[Wave] = field(default_factory=list)
    devices: dict[str, DeviceReport] = field(default_factory=dict)
    gates: list[Gate] = field(default_factory=list)
    missing_sites: list[str] = field(default_factory=list)
    waves_done: int = 0
    soak_seconds: float = 0.0
    rollback_of: str | None = None  # the run this one rolls back (`upgrade --rollback RUN`)
    rollback: dict[str, Any] | None = None  # the halted wave put back: devices and the SLEs after
    notes: list[str] = field(default_factory=list)  # sites skipped or allowed by the pre-gates, and why

    def count(self, status: str) -> int:
        return sum(d.status == status for d in self.devices.values())

    def to_json(self) -> dict[str, Any]:
        """As `mistctl upgrade --json` prints it and the run's report in the API."""
        return {"org_id": self.org_id, "version": self.version, "status": self.status, "reason": self.reason,
                "run_id": self.run_id, "waves_done": self.waves_done, "missing_sites": self.missing_sites,
                "soak_seconds": self.soak_seconds, "rollback_of": self.rollback_of, "rollback": self.rollback,
                "notes": self.notes,
                "waves": [w.to_json() for w in self.waves], "gates": [g.to_json() for g in self.gates],
                "devices": [d.to_json() for d in sorted(self.devices.values(),
                                                        key=lambda d: (d.target.site, d.target.mac))]}
