"""Resolve duplicates in the live org: delete the younger copies that mistctl itself created.

A conflict (two live objects with one natural key) stops every plan. When mistctl made the younger
copies (two runs raced before the org lock existed; its audit log holds their POSTs and the ids Mist
answered), deleting them is safe: the oldest copy is kept, and the object map is pointed at it. A
duplicate mistctl did not create is left to a human (it may be someone's work), and named.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from mistctl.domain import kinds as K
from mistctl.domain.plan import Plan
from mistctl.mist.errors import MistError, NotFound
from mistctl.store.port import StateStore
from mistctl.workflow.context import call_scope
from mistctl.workflow.records import Records

AUDIT_PAGE = 1000


class Deleter(Protocol):
    """The one Mist call dedupe makes."""

    async def delete_org(self, org_id: str, collection: str, obj_id: str) -> None: ...


@dataclass(frozen=True)
class Duplicate:
    """One live copy of a conflicted object: its id, when Mist created it, the copy kept, who made it."""

    kind: str
    key: str
    mist_id: str
    created_time: float | None
    keep_id: str
    run_id: str | None  # the mistctl run whose POST created it; None: not made by mistctl


@dataclass
class Proposal:
    """What dedupe would delete, and the duplicates it leaves to a human."""

    delete: list[Duplicate]
    left: list[Duplicate]


async def created_by_mistctl(store: StateStore) -> dict[str, str]:
    """Every Mist id mistctl created (a POST in its audit log), with the run that created it."""
    made: dict[str, str] = {}
    offset = 0
    while True:
        page = await store.list_audit(limit=AUDIT_PAGE, offset=offset)
        for e in page:
            if e.method == "POST" and e.mist_id and 200 <= e.status < 300:
                made.setdefault(e.mist_id, e.run_id or "")
        if len(page) < AUDIT_PAGE:
            return made
        offset += AUDIT_PAGE


def propose(plan: Plan, made: dict[str, str]) -> Proposal:
    """The younger copies of each conflict: those mistctl created are to delete, the others are left."""
    proposal = Proposal([], [])
    for problem in plan.fatal_problems:
        if len(problem.duplicates) < 2:
            continue
        keep, *younger = problem.duplicates
        for dup in younger:
            mist_id = str(dup["id"])
            item = Duplicate(problem.kind, problem.key, mist_id, _when(dup.get("created_time")), str(keep["id"]),
                             made.get(mist_id))
            (proposal.delete if mist_id in made else proposal.left).append(item)
    return proposal


async def delete_duplicates(mist: Deleter, records: Records, dups: Iterable[Duplicate]) -> dict[str, str]:
    """Delete each copy (audited), point the object map at the kept copy; errors by Mist id."""
    errors: dict[str, str] = {}
    store, org_id = records.store, records.org_id
    for dup in dups:
        kind = K.BY_KEY[dup.kind]
        try:
            with call_scope(None, dup.kind, dup.key):
                await mist.delete_org(org_id, kind.collection, dup.mist_id)
        except NotFound:
            pass  # someone deleted it already: the aim is met
        except MistError as exc:
            errors[dup.mist_id] = str(exc)
            continue
        await records.flush_audit((None, dup.kind, dup.key), dup.mist_id)
        known = (await store.get_objects(org_id, dup.kind)).get(dup.key)
        if known is not None and known.mist_id == dup.mist_id:
            await store.put_object(org_id, dup.kind, dup.key, dup.keep_id)  # no applied hash: re-checked
    return errors


def _when(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
