"""Typed calls for sites, site settings and the org inventory (claim, assign, unassign)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mistctl.mist.core import ClientCore, _expect_dict
from mistctl.mist.models import (
    InventoryChangeResult,
    InventoryClaimResult,
    LicenseClaimResult,
    MistObject,
)

_INVENTORY = "/orgs/{org_id}/inventory"


class SiteOps(ClientCore):
    """Sites, their settings (site variables) and devices in the inventory."""

    async def list_sites(self, org_id: str) -> list[MistObject]:
        """Every site of the org."""
        return await self.list_org(org_id, "sites")

    async def create_site(self, org_id: str, body: MistObject) -> MistObject:
        """Create a site (``name`` required); template bindings go in the body."""
        return await self.create_org(org_id, "sites", body)

    async def get_site(self, site_id: str) -> MistObject:
        """One site."""
        answer = await self._session.call("GET", "/sites/{site_id}", {"site_id": site_id})
        return _expect_dict(answer, "get site")

    async def update_site(self, site_id: str, body: MistObject) -> MistObject:
        """Update the site fields sent."""
        answer = await self._session.call("PUT", "/sites/{site_id}", {"site_id": site_id}, body=body)
        return _expect_dict(answer, "update site")

    async def delete_site(self, site_id: str) -> None:
        """Delete a site."""
        await self._session.call("DELETE", "/sites/{site_id}", {"site_id": site_id})

    async def get_site_setting(self, site_id: str) -> MistObject:
        """The site's setting (``vars`` holds the site variables)."""
        answer = await self._session.call("GET", "/sites/{site_id}/setting", {"site_id": site_id})
        return _expect_dict(answer, "get site setting")

    async def update_site_setting(self, site_id: str, body: MistObject) -> MistObject:
        """Update the setting fields sent, e.g. ``{"vars": {...}}``."""
        answer = await self._session.call("PUT", "/sites/{site_id}/setting", {"site_id": site_id}, body=body)
        return _expect_dict(answer, "update site setting")

    # -- inventory -----------------------------------------------------------------------------

    async def list_inventory(self, org_id: str, **filters: Any) -> list[MistObject]:
        """Devices in the org inventory; filters as Mist names them (type, site_id, mac, unassigned...)."""
        return await self.list_org(org_id, "inventory", **filters)

    async def claim_inventory(self, org_id: str, claim_codes: Sequence[str]) -> InventoryClaimResult:
        """Claim devices by claim code (a bare JSON array); codes already held come back as duplicated.

        A claim where every code fails is a `BadRequest` whose ``body`` has the same shape.
        """
        answer = await self._session.call("POST", _INVENTORY, {"org_id": org_id}, body=list(claim_codes))
        return InventoryClaimResult.model_validate(_expect_dict(answer, "claim inventory"))

    async def assign_inventory(
        self, org_id: str, site_id: str, macs: Sequence[str], *, no_reassign: bool = False
    ) -> InventoryChangeResult:
        """Assign devices (by MAC) to a site; per-MAC failures are in the result's ``error``/``reason``."""
        body = {"op": "assign", "site_id": site_id, "macs": list(macs), "no_reassign": no_reassign}
        return await self._inventory_op(org_id, body)

    async def unassign_inventory(self, org_id: str, macs: Sequence[str]) -> InventoryChangeResult:
        """Take devices (by MAC) off their site, back to the org inventory."""
        return await self._inventory_op(org_id, {"op": "unassign", "macs": list(macs)})

    async def _inventory_op(self, org_id: str, body: MistObject) -> InventoryChangeResult:
        answer = await self._session.call("PUT", _INVENTORY, {"org_id": org_id}, body=body)
        return InventoryChangeResult.model_validate(_expect_dict(answer, f"inventory {body['op']}"))

    async def claim_activation_code(self, org_id: str, code: str, *, claim_type: str = "all") -> LicenseClaimResult:
        """Claim an activation code (an order's devices and licenses): ``POST /orgs/{org_id}/claim``."""
        answer = await self._session.call(
            "POST", "/orgs/{org_id}/claim", {"org_id": org_id}, body={"code": code, "type": claim_type}
        )
        return LicenseClaimResult.model_validate(_expect_dict(answer, "claim activation code"))
