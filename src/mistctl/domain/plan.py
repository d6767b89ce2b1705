"""The plan: ordered Create/Update/NoOp changes by step and site, with their API-call cost.

A plan is data: it serialises to JSON (secrets redacted) and back, so `mistctl plan --out` and
`mistctl apply plan.json` exchange it. Apply re-derives the bodies from the fleet file (the plan
carries the fleet's hash, not its secrets) and refuses when the fleet or the live org changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mistctl.domain.desired import SECRET_FIELDS
from mistctl.domain.fleet import is_secret_key
from mistctl.domain.normalize import redact

Action = Literal["create", "update", "noop", "claim", "assign", "delete"]
Phase = Literal["org", "site", "bind", "delete"]

PLAN_FORMAT = 1
_BUCKETS = {"create": "create", "claim": "create", "noop": "unchanged", "delete": "delete"}


@dataclass
class Change:
    """One thing apply will do (or, for `noop`, has nothing to do)."""

    action: Action
    step: int
    kind: str  # a kind key, or "site_vars" / "devices" / "claims"
    key: str  # natural key within the kind (site name for per-site parts)
    site: str | None = None
    mist_id: str | None = None
    body: dict[str, Any] = field(default_factory=dict)  # create: all fields; update: changed fields
    diff: dict[str, list[Any]] = field(default_factory=dict)  # field -> [live, desired]
    phase: Phase = "org"
    calls: int = 0

    def to_json(self) -> dict[str, Any]:
        # asdict's order, without its deep copy of the body and the diff (redact copies them)
        return {"action": self.action, "step": self.step, "kind": self.kind, "key": self.key, "site": self.site,
                "mist_id": self.mist_id, "body": redact(self.body),
                "diff": {k: ["<redacted>", "<redacted>"] if k in SECRET_FIELDS or is_secret_key(k) else redact(v)
                         for k, v in self.diff.items()},
                "phase": self.phase, "calls": self.calls}

    @property
    def writes(self) -> bool:
        return self.action != "noop"


@dataclass
class Problem:
    """Something the plan cannot do: a conflict in the live org or a device that is nowhere."""

    kind: str
    key: str
    message: str
    site: str | None = None
    fatal: bool = True
    #: a conflict's live objects, oldest first: [{"id": ..., "created_time": epoch seconds or None}]
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    #: an owner conflict's current owner ("fleet:<name>" / "design:<name>", see `domain.owners`)
    owner: str | None = None


@dataclass
class Plan:
    """The whole fleet's changes, in the order apply runs them."""

    org_id: str
    fleet_hash: str
    live_fingerprint: str
    changes: list[Change]
    problems: list[Problem] = field(default_factory=list)
    read_calls: int = 0
    fleet_path: str | None = None
    created_at: float = 0.0
    # managed objects gone from both the fleet and the org (a delete whose record a kill cut short, or one
    # made by hand): (kind, key, Mist id); apply forgets them, and records a site as decommissioned
    gone: list[tuple[str, str, str]] = field(default_factory=list)
    # who this run writes as ("fleet:<name>" / "design:<name>"), and the recorded owner of each org object
    # the plan names (kind -> key -> owner); None: a plan made without owners (a saved plan of old)
    owner: str | None = None
    owners: dict[str, dict[str, str]] = field(default_factory=dict)
    # a targeted plan's target (`domain/targets.Target.to_json`): only part of the fleet, and no deletes
    target: dict[str, Any] | None = None

    @property
    def estimated_calls(self) -> int:
        """Writes the plan will make (reads already spent to make it are in `read_calls`)."""
        return sum(c.calls for c in self.changes)

    def summary(self) -> dict[str, int]:
        """Counts of create, update, delete and unchanged across every change."""
        counts = Counter(c.action for c in self.changes)
        creates = counts["create"] + counts["claim"]
        return {"create": creates, "update": counts["update"] + counts["assign"], "delete": counts["delete"],
                "unchanged": counts["noop"]}

    def by_kind(self) -> dict[str, dict[str, int]]:
        """Per kind: create / update / delete / unchanged counts (for the plan table)."""
        table: dict[str, dict[str, int]] = {}
        for c in self.changes:
            row = table.setdefault(c.kind, {"create": 0, "update": 0, "delete": 0, "unchanged": 0})
            row[_BUCKETS.get(c.action, "update")] += 1
        return table

    @property
    def deletes(self) -> list[Change]:
        """The delete changes, in the order apply makes them."""
        return [c for c in self.changes if c.action == "delete"]

    @property
    def fatal_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.fatal]

    def is_empty(self) -> bool:
        return not any(c.writes for c in self.changes)

    def for_site(self, name: str) -> list[Change]:
        return [c for c in self.changes if c.site == name]

    def to_json(self) -> dict[str, Any]:
        """The serialisable form, secrets redacted (what `plan --json` prints and `--out` saves)."""
        return {
            "format": PLAN_FORMAT,
            "org_id": self.org_id,
            "fleet_hash": self.fleet_hash,
            "fleet_path": self.fleet_path,
            "owner": self.owner,
            "live_fingerprint": self.live_fingerprint,
            "created_at": self.created_at,
            "summary": self.summary(),
            "by_kind": self.by_kind(),
            "estimated_calls": self.estimated_calls,
            "read_calls": self.read_calls,
            "problems": [asdict(p) for p in self.problems],
            "changes": [c.to_json() for c in self.changes if c.writes],
        } | ({"target": self.target} if self.target is not None else {})
