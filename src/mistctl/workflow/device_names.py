"""Device names from the fleet, given once a site's devices are on it (`PUT /sites/{id}/devices/{id}`).

Only names the fleet gives and the device does not carry yet are sent (the plan decides which). A
device's id comes from the inventory where the plan saw it; a device claimed during this run has none
there, so the site's devices are listed once (`GET /sites/{id}/devices?type=all`) to find it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mistctl.domain.claim import normalise_mac
from mistctl.domain.devices_diff import DEVICE_NAMES
from mistctl.mist.errors import MistError
from mistctl.workflow.context import call_scope
from mistctl.workflow.ports import MistApi
from mistctl.workflow.records import Records

if TYPE_CHECKING:
    from mistctl.workflow.site_job import SiteJob, SiteOutcome


async def device_names(mist: MistApi, records: Records, job: SiteJob, outcome: SiteOutcome, *,
                       skip: set[str]) -> list[str]:
    """Name the site's devices as the fleet says; returns what could not be done (empty when all went)."""
    todo = {mac: name for mac, name in job.names.items() if mac not in skip}
    if not todo:
        return []
    site_id = str(outcome.site_id)
    failures: list[str] = []
    with call_scope(job.site, DEVICE_NAMES, job.site):
        try:
            known = await _known_devices(mist, site_id, job.device_ids, todo)
            for mac, name in todo.items():
                if mac not in known:
                    failures.append(f"device {mac} is not at site {job.site}: it cannot be named {name!r}")
                    continue
                # `type` picks the spec's device schema (mist_device is a oneOf by type)
                body = {"name": name, "type": known[mac]["type"]}
                await mist.update_site_device(site_id, known[mac]["id"], body)
                outcome.writes += 1
        except MistError as exc:
            failures.append(f"naming the devices of site {job.site} failed: {exc}")
    if not failures and len(todo) == len(job.names):
        await records.step_done(job.site, 2, DEVICE_NAMES, job.site, site_id, job.names_hash)
    return failures


async def _known_devices(mist: MistApi, site_id: str, known: dict[str, dict[str, str]],
                         todo: dict[str, str]) -> dict[str, dict[str, str]]:
    """mac -> {id, type} for every device to name: from the plan, else from one list of the site's devices."""
    devices = dict(known)
    if all(mac in devices for mac in todo):
        return devices
    for device in await mist.list_site_devices(site_id, type="all"):
        if device.get("mac") and device.get("id") and device.get("type"):
            mac = normalise_mac(str(device["mac"]))
            devices.setdefault(mac, {"id": str(device["id"]), "type": str(device["type"])})
    return devices
