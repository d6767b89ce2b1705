"""Typed calls for the wireless org objects: WLAN templates, RF templates, WLANs, labels (wxtags),
WLAN policies (wxrules) and PSKs, including the PSK rotation calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mistctl.mist.core import ClientCore, _expect_dict, _expect_list
from mistctl.mist.models import MistObject


class WirelessOps(ClientCore):
    """Org objects from WLAN templates to PSKs (workflow steps 8 to 13)."""

    async def list_templates(self, org_id: str) -> list[MistObject]:
        """Every WLAN templates of the org."""
        return await self.list_org(org_id, "templates")

    async def create_template(self, org_id: str, body: MistObject) -> MistObject:
        """Create a WLAN template."""
        return await self.create_org(org_id, "templates", body)

    async def get_template(self, org_id: str, template_id: str) -> MistObject:
        """One WLAN template."""
        return await self.get_org(org_id, "templates", template_id)

    async def update_template(self, org_id: str, template_id: str, body: MistObject) -> MistObject:
        """Update the WLAN template fields sent."""
        return await self.update_org(org_id, "templates", template_id, body)

    async def delete_template(self, org_id: str, template_id: str) -> None:
        """Delete a WLAN template."""
        await self.delete_org(org_id, "templates", template_id)

    async def list_rftemplates(self, org_id: str) -> list[MistObject]:
        """Every RF templates of the org."""
        return await self.list_org(org_id, "rftemplates")

    async def create_rftemplate(self, org_id: str, body: MistObject) -> MistObject:
        """Create a RF template."""
        return await self.create_org(org_id, "rftemplates", body)

    async def get_rftemplate(self, org_id: str, rftemplate_id: str) -> MistObject:
        """One RF template."""
        return await self.get_org(org_id, "rftemplates", rftemplate_id)

    async def update_rftemplate(self, org_id: str, rftemplate_id: str, body: MistObject) -> MistObject:
        """Update the RF template fields sent."""
        return await self.update_org(org_id, "rftemplates", rftemplate_id, body)

    async def delete_rftemplate(self, org_id: str, rftemplate_id: str) -> None:
        """Delete a RF template."""
        await self.delete_org(org_id, "rftemplates", rftemplate_id)

    async def list_wlans(self, org_id: str) -> list[MistObject]:
        """Every WLANs of the org."""
        return await self.list_org(org_id, "wlans")

    async def create_wlan(self, org_id: str, body: MistObject) -> MistObject:
        """Create a WLAN."""
        return await self.create_org(org_id, "wlans", body)

    async def get_wlan(self, org_id: str, wlan_id: str) -> MistObject:
        """One WLAN."""
        return await self.get_org(org_id, "wlans", wlan_id)

    async def update_wlan(self, org_id: str, wlan_id: str, body: MistObject) -> MistObject:
        """Update the WLAN fields sent."""
        return await self.update_org(org_id, "wlans", wlan_id, body)

    async def delete_wlan(self, org_id: str, wlan_id: str) -> None:
        """Delete a WLAN."""
        await self.delete_org(org_id, "wlans", wlan_id)

    async def list_wxtags(self, org_id: str) -> list[MistObject]:
        """Every labels (wxtags) of the org."""
        return await self.list_org(org_id, "wxtags")

    async def create_wxtag(self, org_id: str, body: MistObject) -> MistObject:
        """Create a label (wxtag)."""
        return await self.create_org(org_id, "wxtags", body)

    async def get_wxtag(self, org_id: str, wxtag_id: str) -> MistObject:
        """One label (wxtag)."""
        return await self.get_org(org_id, "wxtags", wxtag_id)

    async def update_wxtag(self, org_id: str, wxtag_id: str, body: MistObject) -> MistObject:
        """Update the label (wxtag) fields sent."""
        return await self.update_org(org_id, "wxtags", wxtag_id, body)

    async def delete_wxtag(self, org_id: str, wxtag_id: str) -> None:
        """Delete a label (wxtag)."""
        await self.delete_org(org_id, "wxtags", wxtag_id)

    async def list_wxrules(self, org_id: str) -> list[MistObject]:
        """Every WLAN policies (wxrules) of the org."""
        return await self.list_org(org_id, "wxrules")

    async def create_wxrule(self, org_id: str, body: MistObject) -> MistObject:
        """Create a WLAN policy (wxrule)."""
        return await self.create_org(org_id, "wxrules", body)

    async def get_wxrule(self, org_id: str, wxrule_id: str) -> MistObject:
        """One WLAN policy (wxrule)."""
        return await self.get_org(org_id, "wxrules", wxrule_id)

    async def update_wxrule(self, org_id: str, wxrule_id: str, body: MistObject) -> MistObject:
        """Update the WLAN policy (wxrule) fields sent."""
        return await self.update_org(org_id, "wxrules", wxrule_id, body)

    async def delete_wxrule(self, org_id: str, wxrule_id: str) -> None:
        """Delete a WLAN policy (wxrule)."""
        await self.delete_org(org_id, "wxrules", wxrule_id)

    async def list_psks(self, org_id: str, **filters: Any) -> list[MistObject]:
        """Every PSK of the org; filters: name, ssid, role."""
        return await self.list_org(org_id, "psks", **filters)

    async def create_psk(self, org_id: str, body: MistObject, *, upsert: bool = False) -> MistObject:
        """Create a PSK (name, passphrase, ssid); with `upsert` Mist replaces a PSK of the same name."""
        if upsert:
            return await self.create_org(org_id, "psks", body, upsert=True)
        return await self.create_org(org_id, "psks", body)

    async def get_psk(self, org_id: str, psk_id: str) -> MistObject:
        """One PSK."""
        return await self.get_org(org_id, "psks", psk_id)

    async def update_psk(self, org_id: str, psk_id: str, body: MistObject) -> MistObject:
        """Update a PSK (the fields sent); a rotation sends the previous passphrase as ``old_passphrase``."""
        return await self.update_org(org_id, "psks", psk_id, body)

    async def delete_psk(self, org_id: str, psk_id: str) -> None:
        """Delete a PSK."""
        await self.delete_org(org_id, "psks", psk_id)

    async def delete_old_passphrase(self, org_id: str, psk_id: str) -> MistObject:
        """End a rotation: drop the PSK's ``old_passphrase``. Safe to repeat, so retried."""
        answer = await self._session.call(
            "POST",
            "/orgs/{org_id}/psks/{psk_id}/delete_old_passphrase",
            {"org_id": org_id, "psk_id": psk_id},
            idempotent=True,
        )
        return _expect_dict(answer, "delete old passphrase")

    async def update_psks(self, org_id: str, psks: Sequence[MistObject]) -> list[MistObject]:
        """Bulk update (``PUT /orgs/{org_id}/psks``, a JSON array); answers the PSKs as stored."""
        answer = await self._session.call("PUT", "/orgs/{org_id}/psks", {"org_id": org_id}, body=list(psks))
        return _expect_list(answer, "update psks")
