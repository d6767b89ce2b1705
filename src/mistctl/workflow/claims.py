"""Claim codes during an apply: what each code became (its MAC) or why Mist refused it, and the site
jobs' device parts resolved from that.

A device the plan knows only by claim code (`claim:CODE`) gets its MAC from the batched claims. A code
Mist refused does not stop its site: the site's other devices are assigned and named, and the site fails
at step 2 naming the code and Mist's reason.
"""

from __future__ import annotations

from mistctl.domain.claim import normalise_claim_code, normalise_mac
from mistctl.domain.desired import canonical_hash
from mistctl.domain.devices_diff import CLAIM_PREFIX, DEVICE_NAMES, missing_message
from mistctl.domain.plan import Change
from mistctl.mist.models import InventoryClaimResult
from mistctl.workflow.site_job import SiteJob


class Claims:
    """The claim codes of this apply: code -> MAC, code -> Mist's reason for refusing it."""

    def __init__(self) -> None:
        self.claimed: dict[str, str] = {}
        self.refused: dict[str, str] = {}

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
