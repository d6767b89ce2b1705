"""Step 2 on its own: claim devices (claim codes, an activation code) and assign devices to a site.

For the service's `POST /inventory/assign` and `POST /inventory/ztp`: the site is found by name in
the live org, devices by serial or MAC in the org inventory; claiming a code twice is harmless (Mist
answers it as duplicated, with the device). Devices already on the site are not assigned again.
Devices of an order that are not shipped yet come back `inventory_pending`: reported as pending,
and the same call made later, once they are shipped, claims and assigns them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mistctl.domain import kinds as K
from mistctl.domain.claim import normalise_claim_code, normalise_mac
from mistctl.domain.desired import canonical_hash
from mistctl.errors import UserError
from mistctl.mist.client import MistClient
from mistctl.mist.errors import BadRequest
from mistctl.mist.models import InventoryClaimResult, LicenseClaimResult, MistObject
from mistctl.workflow.context import call_scope
from mistctl.workflow.read import INVENTORY_QUERY
from mistctl.workflow.records import Records

_CLAIM_FIRST = "claim it first (POST /inventory/ztp)"


class SiteNotFound(UserError):
    """The site named is not in the live org."""


@dataclass
class DeviceWanted:
    """The devices a caller asks for: by serial, by MAC, by claim code, or an order's activation code."""

    serials: Sequence[str] = ()
    macs: Sequence[str] = ()
    claim_codes: Sequence[str] = ()
    activation_code: str | None = None


@dataclass
class DevicesOutcome:
    """What happened: the site, MACs assigned now, MACs already there, codes claimed, and what failed."""

    site_id: str
    assigned: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    claimed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # ordered devices not shipped yet: a later call assigns them

    @property
    def ok(self) -> bool:
        return not self.errors


async def find_site(mist: MistClient, org_id: str, name: str) -> str:
    """The Mist id of the site of that name; `SiteNotFound` (or a `UserError` for two) otherwise."""
    found = [s for s in await mist.list_org(org_id, K.SITES.collection) if s.get("name") == name]
    if not found:
        raise SiteNotFound(f"site {name!r} does not exist in org {org_id}: create it first (POST /sites)")
    if len(found) > 1:
        raise UserError(f"org {org_id} has {len(found)} sites named {name!r}: rename or delete the others")
    return str(found[0]["id"])


async def place_devices(mist: MistClient, records: Records, site: str,
                        wanted: DeviceWanted) -> DevicesOutcome:
    """Claim what needs claiming, then assign every wanted device that is not on the site yet."""
    org_id = records.org_id
    outcome = DevicesOutcome(await find_site(mist, org_id, site))
    macs: list[str] = []
    with call_scope(site, "claims", site):
        if wanted.claim_codes:
            macs += _claimed(await _claim(mist, org_id, wanted.claim_codes), outcome)
        if wanted.activation_code:
            macs += _ordered(await mist.claim_activation_code(org_id, wanted.activation_code), wanted, outcome)
    inventory = await mist.list_org(org_id, "inventory", **INVENTORY_QUERY)
    macs += _from_inventory(inventory, wanted, outcome)
    on_site = {normalise_mac(str(d.get("mac"))) for d in inventory if d.get("site_id") == outcome.site_id}
    todo = [m for m in dict.fromkeys(macs) if m not in on_site]
    outcome.already = [m for m in dict.fromkeys(macs) if m in on_site]
    if todo:
        with call_scope(site, K.DEVICES.key, site):
            answer = await mist.assign_inventory(org_id, outcome.site_id, todo)
        outcome.assigned = list(answer.success)
        outcome.errors += [f"Mist refused to assign {mac}: {why}" for mac, why in answer.refusals()]
    if outcome.assigned or outcome.already:
        await records.step_done(site, K.DEVICES.step, K.DEVICES.key, site, outcome.site_id,
                                canonical_hash(sorted(outcome.assigned + outcome.already)))
    await records.flush_audit()
    return outcome


async def _claim(mist: MistClient, org_id: str, codes: Sequence[str]) -> InventoryClaimResult:
    normalised = list(dict.fromkeys(normalise_claim_code(c) for c in codes))
    try:
        return await mist.claim_inventory(org_id, normalised)
    except BadRequest as exc:  # every code refused: Mist answers the same shape with a 400
        return InventoryClaimResult.model_validate(exc.body or {})


def _claimed(answer: InventoryClaimResult, outcome: DevicesOutcome) -> list[str]:
    outcome.claimed += [*answer.added, *answer.duplicated]
    outcome.errors += [f"claim code {code} was refused: {why}" for code, why in answer.refusals()]
    items = [*answer.inventory_added, *answer.inventory_duplicated]
    return [normalise_mac(str(i["mac"])) for i in items if i.get("mac")]


def _ordered(order: LicenseClaimResult, wanted: DeviceWanted, outcome: DevicesOutcome) -> list[str]:
    """The MACs an activation code brought in; those not shipped yet (`inventory_pending`) wait."""
    outcome.claimed.append(str(wanted.activation_code))
    outcome.pending += [normalise_mac(str(i["mac"])) for i in order.inventory_pending if i.get("mac")]
    items = [*order.inventory_added, *order.inventory_duplicated]
    return [normalise_mac(str(i["mac"])) for i in items if i.get("mac")]


def _from_inventory(inventory: list[MistObject], wanted: DeviceWanted, outcome: DevicesOutcome) -> list[str]:
    by_serial = {str(d.get("serial")): normalise_mac(str(d.get("mac"))) for d in inventory if d.get("serial")}
    by_mac = {normalise_mac(str(d.get("mac"))) for d in inventory if d.get("mac")}
    macs: list[str] = []
    for serial in wanted.serials:
        if serial in by_serial:
            macs.append(by_serial[serial])
        else:
            outcome.errors.append(f"serial {serial} is not in the org's inventory: {_CLAIM_FIRST}")
    for mac in (normalise_mac(m) for m in wanted.macs):
        if mac in by_mac:
            macs.append(mac)
        else:
            outcome.errors.append(f"MAC {mac} is not in the org's inventory: {_CLAIM_FIRST}")
    return macs
