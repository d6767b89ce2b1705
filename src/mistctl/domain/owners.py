"""Who owns an org object: the fleet or the service's design that wrote it, and the plan's owner conflicts.

An owner is a string recorded beside each object in the state store: `fleet:<name>` for a fleet applied
from the CLI (or posted to the service), `design:<name>` for the service's design. The name is the file's
top-level `name:` when it has one (the same on every machine: a CI checkout and a laptop agree), else the
file's base name (`fleet:fleet.yaml`), else for a design its file's stem (`design:default`). A fleet posted
without a name is `fleet:unnamed`.

A plan that would change (update, recreate, delete) an org object recorded under another owner names it
as a conflict; `--take-ownership` turns the conflict into a note and the apply records the new owner. An
object recorded before owners were (an older mistctl) is claimed by the first run that changes it. Another
owner's objects a fleet does not name are not its to delete: they are kept, in one note per owner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import PurePath

from mistctl.domain import kinds as K
from mistctl.domain.deletes import DELETE_ORDER, Managed, doomed_of
from mistctl.domain.desired import DesiredState
from mistctl.domain.diff import LiveState
from mistctl.domain.plan import Change, Problem

FLEET, DESIGN = "fleet", "design"
UNNAMED = "unnamed"
TAKE_FLAG = "--take-ownership"
_ORG_KEYS = frozenset(k.key for k in K.ORG_KINDS)


def _safe_name(text: str) -> str:
    """A file name made fit to be an owner's name (other characters become '-')."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", text).lstrip("._-")[:63]
    return cleaned or UNNAMED


@dataclass(frozen=True)
class Ownership:
    """The owner a run writes as, where its name came from, and whether it takes over others' objects."""

    owner: str
    source: str = "name"  # "name" (the file's `name:`), "file name", or "default"
    take: bool = False

    @staticmethod
    def dumps(ownership: Ownership | None) -> str:
        """JSON text (for a queued run's book); 'null' for None."""
        return json.dumps(asdict(ownership) if ownership else None)

    @staticmethod
    def loads(raw: str | None) -> Ownership | None:
        """The `dumps` text back; None for 'null' or nothing (a run queued by an older mistctl)."""
        data = json.loads(raw or "null")
        return Ownership(**data) if isinstance(data, dict) else None

    def describe(self) -> str:
        """`fleet 'branch-east'`, or `fleet 'fleet.yaml' (from its file name; ...)`."""
        if self.source == "name":
            return describe(self.owner)
        hint = f" (from its {self.source}; a `name:` in the file keeps it when renamed)"
        return describe(self.owner) + hint


def fleet_ownership(name: str | None, path: str | None = None, *, take: bool = False) -> Ownership:
    """A fleet's owner: its `name:`, else its file's base name, else `unnamed`."""
    if name:
        return Ownership(f"{FLEET}:{name}", "name", take)
    if path:
        return Ownership(f"{FLEET}:{_safe_name(PurePath(path).name)}", "file name", take)
    return Ownership(f"{FLEET}:{UNNAMED}", "default", take)


def design_ownership(name: str | None, source: str, *, take: bool = False) -> Ownership:
    """The service design's owner: its `name:`, else its file's stem (`design:default` when shipped)."""
    if name:
        return Ownership(f"{DESIGN}:{name}", "name", take)
    return Ownership(f"{DESIGN}:{_safe_name(PurePath(source).stem)}", "file name", take)


def describe(owner: str | None) -> str:
    """`fleet 'branch-east'`, `design 'default'`; `no recorded owner` for None."""
    if not owner:
        return "no recorded owner"
    kind, _, name = owner.partition(":")
    return f"{kind} {name!r}" if name else repr(owner)


def owner_problems(changes: list[Change], recorded: Mapping[tuple[str, str], str | None],
                   ownership: Ownership) -> list[Problem]:
    """The plan's owner conflicts (fatal unless taken over) and claims of unowned records (notes).

    `recorded`: (kind, key) -> owner of every org object the store records (None: no owner recorded).
    Unchanged objects are never conflicts: both agree on them.
    """
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for change in changes:
        where = (change.kind, change.key)
        if not change.writes or change.kind not in _ORG_KEYS or where not in recorded or where in seen:
            continue
        seen.add(where)
        owner = recorded[where]
        if owner == ownership.owner:
            continue
        problems.append(_problem(change, owner, ownership))
    return problems


def _problem(change: Change, owner: str | None, ownership: Ownership) -> Problem:
    title = K.BY_KEY[change.kind].title
    me = describe(ownership.owner)
    if owner is None:
        return Problem(change.kind, change.key, f"{title} {change.key} has no recorded owner (an older mistctl "
                       f"recorded it): this run claims it for {me}", fatal=False)
    mine = f"{title} {change.key} is owned by {describe(owner)}"
    if ownership.take:
        return Problem(change.kind, change.key, f"{mine}: {TAKE_FLAG} given, this run changes it and takes it "
                       f"over for {me}", fatal=False, owner=owner)
    return Problem(change.kind, change.key, f"{mine}; pass {TAKE_FLAG} to change it ({me} would take it over; "
                   "the service: take_ownership true)", owner=owner)


def is_owner_conflict(problem: Problem) -> bool:
    """True for a fatal problem that is another owner's object (not a duplicate in the live org)."""
    return problem.fatal and problem.owner is not None


def others_kept(desired: DesiredState, live: LiveState, others: Mapping[str, Managed]) -> list[Problem]:
    """One note per other owner whose live objects this fleet does not name: kept, not this run's to delete."""
    notes: list[Problem] = []
    for owner, managed in sorted(others.items()):
        names = [f"{kind.title} {key}" for kind in DELETE_ORDER
                 for key in sorted(doomed_of(kind, desired, live, managed).values())]
        if not names:
            continue
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        notes.append(Problem("owner", owner, f"kept: {len(names)} object(s) {describe(owner)} owns are not in this "
                             f"fleet ({shown}); they are its to delete, not this run's (pass {TAKE_FLAG} with "
                             "--allow-delete to take them over and delete them)", fatal=False, owner=owner))
    return notes
