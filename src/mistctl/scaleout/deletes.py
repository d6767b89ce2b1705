"""The deletes of a queued run, made by its `finish` job once every site job is done.

The same deletes as in-process (`workflow.delete.apply_deletes`: in the plan's reverse-creation order, one
call per object, a lost answer looked up before any retry), with the consent the run was queued with. They
are planned again from the live org here, not taken from the `deploy` job's plan: a `finish` job that runs
twice (its worker killed) finds done what its first try did (deleted objects gone, a removed site's
devices already back in the inventory) and makes only what is left.
"""

from __future__ import annotations

from mistctl.domain.fleet import Fleet
from mistctl.domain.owners import Ownership
from mistctl.mist.errors import MistError
from mistctl.store.port import StateStore
from mistctl.workflow.apply import ApplyResult
from mistctl.workflow.delete import DeleteConsent, apply_deletes
from mistctl.workflow.delete_outcome import DeleteOutcome
from mistctl.workflow.deploy import plan_fleet
from mistctl.workflow.ports import MistApi
from mistctl.workflow.records import Records


async def queued_deletes(mist: MistApi, records: Records, store: StateStore, fleet: Fleet,
                         consent: DeleteConsent, *, concurrency: int,
                         ownership: Ownership | None = None) -> DeleteOutcome:
    """Plan the deletes against the live org and make those `consent` allows (the rest are kept)."""
    try:
        planned = await plan_fleet(mist, store, fleet, records.org_id, concurrency=concurrency,
                                   ownership=ownership)
    except MistError as exc:
        return DeleteOutcome(failed={"deletes": f"could not read the org from Mist: {exc}"})
    result = ApplyResult()
    await apply_deletes(mist, records, planned, consent, result)
    return result.deletes

