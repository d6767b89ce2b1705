"""Owners in a plan: the recorded owner of each org object the plan names, and the owner conflicts.

`check_owners` runs after the diff: it reads the object map once per org kind the plan names and adds
the conflicts (`domain.owners.owner_problems`) to the plan. The apply records the plan's owner with every
object it writes (`Records.owner`), so the next plan of another owner sees it.
"""

from __future__ import annotations

import asyncio

from mistctl.domain import kinds as K
from mistctl.domain.owners import Ownership, owner_problems
from mistctl.domain.plan import Plan
from mistctl.store.models import ObjRef
from mistctl.store.port import StateStore

_ORG_KEYS = frozenset(k.key for k in K.ORG_KINDS)


async def check_owners(store: StateStore, plan: Plan, ownership: Ownership) -> None:
    """Say whose run this is, record the owners of the plan's org objects, and add the owner conflicts."""
    kinds = sorted({c.kind for c in plan.changes if c.kind in _ORG_KEYS})
    found = await asyncio.gather(*(store.get_objects(plan.org_id, kind) for kind in kinds))
    recorded = {(kind, key): ref.owner for kind, refs in zip(kinds, found, strict=True) for key, ref in refs.items()}
    plan.owner = ownership.owner
    plan.owners = {kind: {key: str(ref.owner) for key, ref in refs.items() if ref.owner}
                   for kind, refs in zip(kinds, found, strict=True)}
    plan.problems.extend(owner_problems(plan.changes, recorded, ownership))


def another_owners(ref: ObjRef, owner: str | None) -> bool:
    """True when `ref` is recorded under an owner other than `owner` (a run without owner sees none)."""
    return owner is not None and ref.owner is not None and ref.owner != owner
