"""Claim codes during an apply: what each code became (its MAC) or why Mist refused it, and the site
jobs' device parts resolved from that.

A device the plan knows only by claim code (`claim:CODE`) gets its MAC from the batched claims. A code
Mist refused does not stop its site: the site's other devices are assigned and named, and the site fails
at step 2 naming the code and Mist's reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mistctl.domain.claim import normalise_claim_code, normalise_mac
from mistctl.domain.desired import canonical_hash
from mistctl.domain.devices_diff import CLAIM_PREFIX, DEVICE_NAMES, ORDER_PREFIX, ORDERS, missing_message
from mistctl.domain.plan import Change
from mistctl.mist.errors import BadRequest, OutcomeUnknown
from mistctl.mist.models import InventoryClaimResult, LicenseClaimResult
from mistctl.workflow.context import call_scope
from mistctl.workflow.create import MAX_CREATE_ATTEMPTS
from mistctl.workflow.ports import MistApi
from mistctl.workflow.records import Records
from mistctl.workflow.settle import all_ended
from mistctl.workflow.site_job import SiteJob

T = TypeVar("T")


class Claims:
    """The claim codes of this apply: code -> MAC, code -> Mist's reason for refusing it."""

    def __init__(self) -> None:
        self.claimed: dict[str, str] = {}
        self.refused: dict[str, str] = {}
        self.orders: dict[str, list[str]] = {}  # activation code -> MACs of its devices in the org now
        self.pending: dict[str, list[str]] = {}  # activation code -> MACs of its devices not shipped yet

    def record_order(self, code: str, answer: LicenseClaimResult) -> None:
        """Take an activation code's answer: its devices in the org, and those Mist has pending."""
        items = [*answer.inventory_added, *answer.inventory_duplicated]
        self.orders[code] = [normalise_mac(str(i["mac"])) for i in items if i.get("mac")]
        self.pending[code] = [normalise_mac(str(i["mac"])) for i in answer.inventory_pending if i.get("mac")]

    def record(self, answer: InventoryClaimResult) -> None:
        """Take a claim's answer: added and duplicated devices give MACs, errors give reasons."""
        for item in [*answer.inventory_added, *answer.inventory_duplicated]:
            self.claimed[normalise_claim_code(str(item["magic"]))] = normalise_mac(str(item["mac"]))
        self.refused.update((normalise_claim_code(code), why) for code, why in answer.refusals())

    def mac(self, ref: str) -> str | None:
        """The MAC of a device reference (a MAC, or `claim:CODE` once claimed); None for a code not claimed."""
        if not ref.startswith(CLAIM_PREFIX):
            return ref
        return self.claimed.get(ref[len(CLAIM_PREFIX):])

    def why_not(self, ref: str) -> str:
        code = ref[len(CLAIM_PREFIX):]
        return f"claim code {code} was not claimed: {self.refused.get(code, 'Mist did not answer it')}"

    def fill(self, job: SiteJob, by_kind: dict[str, Change]) -> None:
        """The job's devices to assign and name, and the devices that fail it (missing or refused)."""
        devices = by_kind.get("devices")
        if devices is not None and devices.writes:
            job.missing = [missing_message(*str(m).split(" ", 1)) for m in devices.body.get("missing", [])]
            for ref in devices.body.get("macs", []):
                if ref.startswith(ORDER_PREFIX):
                    self._fill_order(job, ref[len(ORDER_PREFIX):])
                    continue
                mac = self.mac(ref)
                if mac is None:
                    job.missing.append(self.why_not(ref))
                else:
                    job.macs.append(mac)
            job.devices_hash = canonical_hash(sorted(job.macs))
        names = by_kind.get(DEVICE_NAMES)
        if names is not None and names.writes:
            ids = names.body.get("ids", {})
            for ref, name in names.body.get("names", {}).items():
                mac = self.mac(ref)
                if mac is not None:
                    job.names[mac] = name
                    if ref in ids:
                        job.device_ids[mac] = ids[ref]
            job.names_hash = canonical_hash(job.names)

    def _fill_order(self, job: SiteJob, code: str) -> None:
        if code not in self.orders:
            why = self.refused.get(code, "Mist did not answer it")
            job.missing.append(f"activation code {code} was not claimed: {why}")
            return
        job.macs += self.orders[code]
        job.pending += self.pending.get(code, [])


#: Batches of claim codes in flight at once. Each batch holds other codes, and a batch made again is safe
#: (what is held comes back `duplicated`), so their order does not matter; a 1,000-site fleet's 20 batches
#: no longer cost 20 round trips one after the other (docs/mist-fidelity.md).
CLAIM_CONCURRENCY = 4


async def claim_all(mist: MistApi, records: Records, claims: Claims, changes: list[Change]) -> int:
    """Make the plan's claims: the batches of codes, `CLAIM_CONCURRENCY` at once, then the orders one by one;
    returns the writes made. A batch that fails does not stop the others; once all have ended the first
    failure (in plan order) is raised."""
    gate = asyncio.Semaphore(CLAIM_CONCURRENCY)

    async def batch(change: Change) -> None:
        async with gate:
            with call_scope(None, change.kind, change.key):
                claims.record(await _codes(mist, records.org_id, list(change.body.get("claim_codes", []))))

    await all_ended(*(batch(c) for c in changes if c.kind != ORDERS))
    for change in changes:
        if change.kind == ORDERS:
            with call_scope(None, change.kind, change.key):
                await _order(mist, records, claims, change.key)
    return len(changes)


async def _codes(mist: MistApi, org_id: str, codes: list[str]) -> InventoryClaimResult:
    try:
        return await retried(lambda: mist.claim_inventory(org_id, codes))
    except BadRequest as exc:  # every code refused: same shape as a success
        return InventoryClaimResult.model_validate(exc.body or {})


async def _order(mist: MistApi, records: Records, claims: Claims, code: str) -> None:
    """Claim an order's activation code; once none of its devices is pending, record its MACs."""
    try:
        answer = await retried(lambda: mist.claim_activation_code(records.org_id, code))
    except BadRequest as exc:
        claims.refused[code] = exc.detail or str(exc)
        return
    claims.record_order(code, answer)
    if not claims.pending[code]:
        macs = sorted(claims.orders[code])
        await records.step_done(None, 2, ORDERS, code, ",".join(macs), canonical_hash(macs))


async def retried(call: Callable[[], Awaitable[T]]) -> T:
    """A claim made again when its answer was lost: safe, what is held comes back duplicated."""
    for _attempt in range(MAX_CREATE_ATTEMPTS):
        try:
            return await call()
        except OutcomeUnknown:
            continue
    return await call()
