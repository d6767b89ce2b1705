"""What an apply's deletes did (a small record of its own, so `ApplyResult` can hold it without cycles)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DeleteOutcome:
    """Deletes made, kept (with why) and failed (with the error), as `kind key` labels."""

    deleted: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)  # MACs unassigned back to the org inventory
    unclaimed: list[str] = field(default_factory=list)  # MACs taken out of the org inventory (--unclaim)
    writes: int = 0
