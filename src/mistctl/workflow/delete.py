"""Performing a plan's deletes: only with consent, in plan order, one call per object, lost answers looked up.

Each delete is recorded before it is sent (a step record `delete:<kind>` "running") and after it (the
record "done", the object forgotten from the object map, a site "decommissioned"), so a run killed in
the middle converges on the next: the plan lists again only what is still live. A DELETE whose answer
was lost (or that got a 5xx) is never retried blindly: the object is looked up first, and a 404 means
done. A site's devices are unassigned back to the org inventory before the site goes, and only with
`release_devices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mistctl.domain import kinds as K
from mistctl.domain.handmade import MEMBERS, is_by_hand
from mistctl.domain.plan import Change, Plan
from mistctl.mist.errors import MistError, NotFound, OutcomeUnknown
from mistctl.store.models import StepRecord
from mistctl.workflow.context import call_scope
from mistctl.workflow.delete_outcome import DeleteOutcome
from mistctl.workflow.delete_plan import adopt_unchanged
from mistctl.workflow.ports import MistApi
from mistctl.workflow.records import Records

if TYPE_CHECKING:
    from mistctl.workflow.apply import ApplyResult
    from mistctl.workflow.deploy import Planned

MAX_DELETE_ATTEMPTS = 3
DELETE_PREFIX = "delete:"


@dataclass(frozen=True)
class DeleteConsent:
    """What the operator allowed: deletes at all, and deleting sites that still hold devices."""

    allow_delete: bool = False
    release_devices: bool = False
    unclaim: bool = False  # with release_devices: take the devices out of the org inventory (claimable again)


class DeleteRefused(Exception):
    """Mist did not take a part of a delete (e.g. a device it would not unassign)."""


def label(change: Change) -> str:
    return f"{change.kind} {change.key}"


def refusal(change: Change, consent: DeleteConsent) -> str | None:
    """Why a delete is kept under this consent, or None when it may go."""
    if not consent.allow_delete:
        return "pass --allow-delete to remove it" if is_by_hand(change) else "pass --allow-delete to delete it"
    if change.body.get("devices") and not consent.release_devices:
        n = len(change.body["devices"])
        return f"the site still has {n} device(s); pass --release-devices to unassign them and delete it"
    return None


async def apply_deletes(mist: MistApi, records: Records, planned: Planned, consent: DeleteConsent,
                        result: ApplyResult) -> None:
    """After the rest of the apply: adopt what was found as wanted, then the deletes (if all else succeeded)."""
    plan = planned.plan
    await adopt_unchanged(records.store, plan, planned.desired)
    await forget_gone(records, plan)
    if not plan.deletes:
        return
    if not result.ok:
        why = "the rest of the apply did not finish; apply again"
        result.deletes.kept = {label(c): why for c in plan.deletes}
        return
    result.deletes = await run_deletes(mist, records, plan, consent)
    result.writes += result.deletes.writes


async def forget_gone(records: Records, plan: Plan) -> None:
    """Forget managed objects already deleted (a run killed between its DELETE and its record resumes here)."""
    for kind_key, key, mist_id in plan.gone:
        change = Change("delete", K.BY_KEY[kind_key].step, kind_key, key, mist_id=mist_id, phase="delete")
        await _forget(records, change)


async def run_deletes(mist: MistApi, records: Records, plan: Plan, consent: DeleteConsent) -> DeleteOutcome:
    """Make the plan's deletes in order; the first failure keeps the rest (what follows may depend on it)."""
    out = DeleteOutcome()
    for change in plan.deletes:
        why = refusal(change, consent) if not out.failed else "an earlier delete failed; apply again"
        if why is not None:
            out.kept[label(change)] = why
            continue
        try:
            with call_scope(None, change.kind, change.key):
                await _delete_one(mist, records, change, out, consent)
            out.deleted.append(label(change))
        except (MistError, DeleteRefused) as exc:
            out.failed[label(change)] = str(exc)
            await _record(records, change, "failed", error=str(exc))
    if out.writes:
        await records.count({"writes": out.writes, "deleted": len(out.deleted)})
    return out


async def _delete_one(mist: MistApi, records: Records, change: Change, out: DeleteOutcome,
                      consent: DeleteConsent) -> None:
    await _record(records, change, "running")
    mist_id = str(change.mist_id)
    macs = [str(m) for m in change.body.get("devices", [])]
    if macs:
        if consent.unclaim:  # Mist's inventory `delete` unassigns and unclaims in one call
            serials = [str(s) for s in change.body.get("serials", [])]
            if len(serials) != len(macs):
                raise DeleteRefused("a device of the site has no serial in the inventory, so it cannot be "
                                    "unclaimed: apply without --unclaim (the devices stay in the org inventory)")
            await _unclaim(mist, records.org_id, serials)
            out.unclaimed.extend(macs)
        else:
            await _release(mist, records.org_id, macs)
            out.released.extend(macs)
        out.writes += 1
    if change.kind == MEMBERS:  # a site put in managed site groups by hand leaves them (a PUT: safe to repeat)
        await mist.update_site(mist_id, {"sitegroup_ids": list(change.body["sitegroup_ids"])})
    else:
        await delete_checked(mist, records.org_id, change.kind, mist_id)
    out.writes += 1
    await _forget(records, change)
    await records.flush_audit((None, change.kind, change.key), mist_id)


async def _forget(records: Records, change: Change) -> None:
    """The delete is done: its record says so, the object map forgets it, a site is decommissioned."""
    await _record(records, change, "done")
    if is_by_hand(change):  # never in the object map
        return
    await records.store.delete_object(records.org_id, change.kind, change.key)
    if change.kind == K.SITES.key:
        await records.site_status(change.key, "decommissioned", site_id=change.mist_id)


async def _release(mist: MistApi, org_id: str, macs: list[str]) -> None:
    """Unassign a site's devices back to the org inventory (never unclaimed); a refusal stops the delete."""
    answer = await mist.unassign_inventory(org_id, macs)
    refused = answer.refusals()
    if refused:
        names = ", ".join(f"{mac} ({why})" for mac, why in refused)
        raise DeleteRefused(f"Mist did not unassign {names}; the site was kept")


async def _unclaim(mist: MistApi, org_id: str, serials: list[str]) -> None:
    """Take a site's devices out of the org inventory (`--unclaim`); a refusal stops the delete."""
    answer = await mist.delete_inventory(org_id, serials)
    refused = answer.refusals()
    if refused:
        names = ", ".join(f"{serial} ({why})" for serial, why in refused)
        raise DeleteRefused(f"Mist did not unclaim {names}; the site was kept")


async def delete_checked(mist: MistApi, org_id: str, kind_key: str, mist_id: str) -> None:
    """DELETE; when the answer is lost, look the object up: gone is done, still there is tried again."""
    for _attempt in range(MAX_DELETE_ATTEMPTS):
        try:
            await _send(mist, org_id, kind_key, mist_id)
            return
        except NotFound:  # already gone: a previous DELETE (whose answer was lost) made it
            return
        except OutcomeUnknown:
            if not await _exists(mist, org_id, kind_key, mist_id):
                return
    await _send(mist, org_id, kind_key, mist_id)


async def _send(mist: MistApi, org_id: str, kind_key: str, mist_id: str) -> None:
    if kind_key == K.SITES.key:
        await mist.delete_site(mist_id, retry_lost=False)
    else:
        await mist.delete_org(org_id, K.BY_KEY[kind_key].collection, mist_id, retry_lost=False)


async def _exists(mist: MistApi, org_id: str, kind_key: str, mist_id: str) -> bool:
    try:
        if kind_key == K.SITES.key:
            await mist.get_site(mist_id)
        else:
            await mist.get_org(org_id, K.BY_KEY[kind_key].collection, mist_id)
    except NotFound:
        return False
    return True


async def _record(records: Records, change: Change, status: str, *, error: str | None = None) -> None:
    """The delete's own step record (its intention, then its result), beside the object's creation record."""
    site = change.key if change.kind == K.SITES.key else None
    await records.store.record_step(StepRecord.model_validate({
        "run_id": records.run_id, "org_id": records.org_id, "site": site, "step": change.step,
        "kind": DELETE_PREFIX + change.kind, "key": change.key, "status": status, "mist_id": change.mist_id,
        "error": error,
    }))
