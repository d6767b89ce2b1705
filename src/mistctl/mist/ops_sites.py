"""Typed calls for sites, site settings and the org inventory (claim, assign, unassign)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mistctl.mist.core import ClientCore, _expect_dict
from mistctl.mist.errors import BadRequest, NotFound
from mistctl.mist.models import (
    InventoryChangeResult,
    InventoryClaimResult,
    LicenseClaimResult,
    MistObject,
)

_INVENTORY = "/orgs/{org_id}/inventory"


def per_mac_answer(body: Any, op: str) -> InventoryChangeResult | None:
    """An error answer's body read as per-MAC results, or None when it has no `error` list."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), list) or not body["error"]:
        return None
    reasons = body["reason"] if isinstance(body.get("reason"), list) else []
    success = body["success"] if isinstance(body.get("success"), list) else []
    return InventoryChangeResult(op=str(body.get("op") or op), success=[str(m) for m in success],
                                 error=[str(m) for m in body["error"]], reason=[str(r) for r in reasons])


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

    async def delete_site(self, site_id: str, *, retry_lost: bool = True) -> None:
        """Delete a site (``retry_lost=False``: a lost answer raises `OutcomeUnknown`, see `delete_org`)."""
        await self._session.call("DELETE", "/sites/{site_id}", {"site_id": site_id},
                                 idempotent=None if retry_lost else False)

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
        """Assign devices (by MAC) to a site; per-MAC failures are in the result's ``error``/``reason``.

        ``managed: true`` and ``disable_auto_config: false`` on every assign: an adopted switch or gateway
        is otherwise left unmanaged and its templates are never pushed (spec: updateOrgInventoryAssignment;
        the Terraform provider's org_inventory sends the same).
        """
        body = {"op": "assign", "site_id": site_id, "macs": list(macs), "no_reassign": no_reassign,
                "managed": True, "disable_auto_config": False}
        return await self._inventory_op(org_id, body)

    async def unassign_inventory(self, org_id: str, macs: Sequence[str]) -> InventoryChangeResult:
        """Take devices (by MAC) off their site, back to the org inventory."""
        return await self._inventory_op(org_id, {"op": "unassign", "macs": list(macs)})

    async def delete_inventory(self, org_id: str, serials: Sequence[str]) -> InventoryChangeResult:
        """Take devices (by serial) out of the org inventory: unassigned and unclaimed (``op: delete``)."""
        return await self._inventory_op(org_id, {"op": "delete", "serials": list(serials)})

    async def _inventory_op(self, org_id: str, body: MistObject) -> InventoryChangeResult:
        try:
            answer = await self._session.call("PUT", _INVENTORY, {"org_id": org_id}, body=body)
        except (BadRequest, NotFound) as exc:
            # Some MACs refused: Mist answers 400 (or 404) with the per-MAC `error`/`reason` lists.
            per_mac = per_mac_answer(exc.body, str(body["op"]))
            if per_mac is None:
                raise
            return per_mac
        return InventoryChangeResult.model_validate(_expect_dict(answer, f"inventory {body['op']}"))

    async def update_site_device(self, site_id: str, device_id: str, body: MistObject) -> MistObject:
        """Update a device's configuration at its site (e.g. ``{"name": ...}``): ``PUT /sites/{id}/devices/{id}``."""
        answer = await self._session.call(
            "PUT", "/sites/{site_id}/devices/{device_id}", {"site_id": site_id, "device_id": device_id}, body=body
        )
        return _expect_dict(answer, "update site device")

    async def claim_activation_code(self, org_id: str, code: str, *, claim_type: str = "all") -> LicenseClaimResult:
        """Claim an activation code (an order's devices and licenses): ``POST /orgs/{org_id}/claim``."""
        answer = await self._session.call(
            "POST", "/orgs/{org_id}/claim", {"org_id": org_id}, body={"code": code, "type": claim_type}
        )
        return LicenseClaimResult.model_validate(_expect_dict(answer, "claim activation code"))
