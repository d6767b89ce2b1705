"""A run stops writing what a lock it lost covers (`runlock.RunLease`: lapsed, then taken by another run).

`GatedMist` wraps the run's Mist client: before each write it asks the lease, and refuses (`WriteRefused`,
sent nowhere) a write of the org's when the org lock is lost, or of a site whose lock is lost (the site is
read from the call's scope, `workflow.context`). Reads go on, and so do the calls already in flight. The
workflow records a refused write as it records any failed call: the site is not done, so the next apply
resumes it. `halted()` tells the site dispatcher to start no more sites once the org lock is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mistctl.mist.errors import MistError
from mistctl.mist.models import AssignResult, InventoryChangeResult, InventoryClaimResult, LicenseClaimResult
from mistctl.workflow.context import current_scope
from mistctl.workflow.ports import CallCounter, MistApi
from mistctl.workflow.runlock import RunLease, org_lock, site_lock


class WriteRefused(MistError):
    """A write not sent: the lock that covers it was lost to another run."""


class GatedMist:
    """The run's Mist client, refusing the writes its lost locks cover (reads and deletes' look-ups pass)."""

    def __init__(self, mist: MistApi, lease: RunLease, org_id: str) -> None:
        self.mist, self.lease, self.org_id = mist, lease, org_id

    def halted(self) -> bool:
        """The org lock is lost: the whole run stops (no site is started any more)."""
        return bool(self.lease.lost) and org_lock(self.org_id) in self.lease.lost

    def _check(self, method: str, path: str) -> None:
        if not self.lease.lost:
            return
        scope = current_scope()
        site = scope.site if scope is not None else None
        if not self.halted() and (site is None or site_lock(self.org_id, site) not in self.lease.lost):
            return
        lost = self.lease.lost_error(self.org_id, written=True)
        who = f"run {lost.run_id}" if lost is not None and lost.run_id else "another run"
        what = f"site {site!r}" if site is not None and not self.halted() else f"org {self.org_id}"
        raise WriteRefused(f"not sent: the lock of {what} was lost to {who}; this run stopped writing there "
                           "(apply again to resume)", method=method, path=path)

    @property
    def calls(self) -> CallCounter:
        return self.mist.calls

    # -- reads ----------------------------------------------------------------------------------------

    async def list_org(self, org_id: str, collection: str, **query: Any) -> list[dict[str, Any]]:
        return await self.mist.list_org(org_id, collection, **query)

    async def list_site_devices(self, site_id: str, type: str = "all") -> list[dict[str, Any]]:
        return await self.mist.list_site_devices(site_id, type=type)

    async def get_site_setting(self, site_id: str) -> dict[str, Any]:
        return await self.mist.get_site_setting(site_id)

    async def get_org(self, org_id: str, collection: str, obj_id: str) -> dict[str, Any]:
        return await self.mist.get_org(org_id, collection, obj_id)

    async def get_site(self, site_id: str) -> dict[str, Any]:
        return await self.mist.get_site(site_id)

    # -- writes ---------------------------------------------------------------------------------------

    async def create_org(self, org_id: str, collection: str, body: dict[str, Any], **query: Any) -> dict[str, Any]:
        self._check("POST", f"/orgs/{org_id}/{collection}")
        return await self.mist.create_org(org_id, collection, body, **query)

    async def update_org(self, org_id: str, collection: str, obj_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self._check("PUT", f"/orgs/{org_id}/{collection}/{obj_id}")
        return await self.mist.update_org(org_id, collection, obj_id, body)

    async def claim_inventory(self, org_id: str, claim_codes: Sequence[str]) -> InventoryClaimResult:
        self._check("POST", f"/orgs/{org_id}/inventory")
        return await self.mist.claim_inventory(org_id, claim_codes)

    async def claim_activation_code(self, org_id: str, code: str, *, claim_type: str = "all") -> LicenseClaimResult:
        self._check("POST", f"/orgs/{org_id}/claim")
        return await self.mist.claim_activation_code(org_id, code, claim_type=claim_type)

    async def assign_inventory(self, org_id: str, site_id: str, macs: Sequence[str], *,
                               no_reassign: bool = False) -> InventoryChangeResult:
        self._check("PUT", f"/orgs/{org_id}/inventory")
        return await self.mist.assign_inventory(org_id, site_id, macs, no_reassign=no_reassign)

    async def update_site(self, site_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self._check("PUT", f"/sites/{site_id}")
        return await self.mist.update_site(site_id, body)

    async def update_site_device(self, site_id: str, device_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self._check("PUT", f"/sites/{site_id}/devices/{device_id}")
        return await self.mist.update_site_device(site_id, device_id, body)

    async def assign_deviceprofile(self, org_id: str, deviceprofile_id: str, macs: Sequence[str]) -> AssignResult:
        self._check("POST", f"/orgs/{org_id}/deviceprofiles/{deviceprofile_id}/assign")
        return await self.mist.assign_deviceprofile(org_id, deviceprofile_id, macs)

    async def update_site_setting(self, site_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self._check("PUT", f"/sites/{site_id}/setting")
        return await self.mist.update_site_setting(site_id, body)

    async def delete_org(self, org_id: str, collection: str, obj_id: str, *, retry_lost: bool = True) -> None:
        self._check("DELETE", f"/orgs/{org_id}/{collection}/{obj_id}")
        await self.mist.delete_org(org_id, collection, obj_id, retry_lost=retry_lost)

    async def delete_site(self, site_id: str, *, retry_lost: bool = True) -> None:
        self._check("DELETE", f"/sites/{site_id}")
        await self.mist.delete_site(site_id, retry_lost=retry_lost)

    async def unassign_inventory(self, org_id: str, macs: Sequence[str]) -> InventoryChangeResult:
        self._check("PUT", f"/orgs/{org_id}/inventory")
        return await self.mist.unassign_inventory(org_id, macs)

    async def delete_inventory(self, org_id: str, serials: Sequence[str]) -> InventoryChangeResult:
        self._check("PUT", f"/orgs/{org_id}/inventory")
        return await self.mist.delete_inventory(org_id, serials)
