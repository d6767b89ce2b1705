"""The plan page's changes grouped for reading: org objects by kind, then each site's changes, each
change with its fields' values before (the live org) and after (the fleet); deletes marked.

The plan's JSON already redacts secret fields (`<redacted>` on both sides), so no value shown here can
be a passphrase.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

VALUE_CHARS = 120
FIELDS_SHOWN = 12


@dataclass(frozen=True)
class FieldChange:
    """One field: its value before and after (`None`: not set on that side)."""

    name: str
    before: str | None
    after: str | None


@dataclass
class ChangeGroup:
    """A heading (a kind of org object, or a site) and its changes with their fields."""

    title: str
    site: str | None
    changes: list[tuple[dict[str, Any], list[FieldChange]]] = field(default_factory=list)

    @property
    def deletes(self) -> int:
        return sum(c["action"] == "delete" for c, _ in self.changes)


def shown(value: Any) -> str:
    """A value as compact JSON (a string as it is, `""` when empty), cut to VALUE_CHARS."""
    text = (value or '""') if isinstance(value, str) else json.dumps(value, separators=(", ", ": "), sort_keys=True)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 1] + "…"


def fields_of(change: dict[str, Any]) -> list[FieldChange]:
    """An update's changed fields (before, after); a create's fields (after only); none for a delete."""
    if change.get("diff"):
        return [FieldChange(name, None if pair[0] is None else shown(pair[0]), None if pair[1] is None else
                            shown(pair[1])) for name, pair in sorted(change["diff"].items())][:FIELDS_SHOWN]
    if change.get("action") in ("create", "claim"):
        body = change.get("body") or {}
        return [FieldChange(name, None, shown(value)) for name, value in sorted(body.items())][:FIELDS_SHOWN]
    return []


def group_changes(changes: list[dict[str, Any]]) -> list[ChangeGroup]:
    """Org-level changes grouped by kind (in plan order), then per site (in plan order)."""
    groups: dict[tuple[int, str], ChangeGroup] = {}
    for change in changes:
        site = change.get("site")
        key = (1, str(site)) if site else (0, str(change.get("kind")))
        title = f"Site {site}" if site else str(change.get("kind"))
        group = groups.setdefault(key, ChangeGroup(title, site))
        group.changes.append((change, fields_of(change)))
    return [groups[k] for k in sorted(groups, key=lambda k: k[0])]
