"""Typed calls for the org-level wired/WAN objects: site groups, applications, networks, device
profiles (hub profiles), gateway templates and switch templates."""

from __future__ import annotations

from collections.abc import Sequence

from mistctl.mist.core import ClientCore, _expect_dict
from mistctl.mist.models import AssignResult, MistObject


class OrgOps(ClientCore):
    """Org objects from site groups to switch templates (workflow steps 0 and 3 to 7)."""

    async def list_sitegroups(self, org_id: str) -> list[MistObject]:
        """Every site groups of the org."""
        return await self.list_org(org_id, "sitegroups")

    async def create_sitegroup(self, org_id: str, body: MistObject) -> MistObject:
        """Create a site group."""
        return await self.create_org(org_id, "sitegroups", body)

    async def get_sitegroup(self, org_id: str, sitegroup_id: str) -> MistObject:
        """One site group."""
        return await self.get_org(org_id, "sitegroups", sitegroup_id)

    async def update_sitegroup(self, org_id: str, sitegroup_id: str, body: MistObject) -> MistObject:
        """Update the site group fields sent."""
        return await self.update_org(org_id, "sitegroups", sitegroup_id, body)

    async def delete_sitegroup(self, org_id: str, sitegroup_id: str) -> None:
        """Delete a site group."""
        await self.delete_org(org_id, "sitegroups", sitegroup_id)

    async def list_services(self, org_id: str) -> list[MistObject]:
        """Every services (applications) of the org."""
        return await self.list_org(org_id, "services")

    async def create_service(self, org_id: str, body: MistObject) -> MistObject:
        """Create a service (application)."""
        return await self.create_org(org_id, "services", body)

    async def get_service(self, org_id: str, service_id: str) -> MistObject:
        """One service (application)."""
        return await self.get_org(org_id, "services", service_id)

    async def update_service(self, org_id: str, service_id: str, body: MistObject) -> MistObject:
        """Update the service (application) fields sent."""
        return await self.update_org(org_id, "services", service_id, body)

    async def delete_service(self, org_id: str, service_id: str) -> None:
        """Delete a service (application)."""
        await self.delete_org(org_id, "services", service_id)

    async def list_networks(self, org_id: str) -> list[MistObject]:
        """Every networks of the org."""
        return await self.list_org(org_id, "networks")

    async def create_network(self, org_id: str, body: MistObject) -> MistObject:
        """Create a network."""
        return await self.create_org(org_id, "networks", body)

    async def get_network(self, org_id: str, network_id: str) -> MistObject:
        """One network."""
        return await self.get_org(org_id, "networks", network_id)

    async def update_network(self, org_id: str, network_id: str, body: MistObject) -> MistObject:
        """Update the network fields sent."""
        return await self.update_org(org_id, "networks", network_id, body)

    async def delete_network(self, org_id: str, network_id: str) -> None:
        """Delete a network."""
        await self.delete_org(org_id, "networks", network_id)

    async def list_deviceprofiles(self, org_id: str) -> list[MistObject]:
        """Every device profiles of the org."""
        return await self.list_org(org_id, "deviceprofiles")

    async def create_deviceprofile(self, org_id: str, body: MistObject) -> MistObject:
        """Create a device profile (a hub profile when type is gateway)."""
        return await self.create_org(org_id, "deviceprofiles", body)

    async def get_deviceprofile(self, org_id: str, deviceprofile_id: str) -> MistObject:
        """One device profile (a hub profile when type is gateway)."""
        return await self.get_org(org_id, "deviceprofiles", deviceprofile_id)

    async def update_deviceprofile(self, org_id: str, deviceprofile_id: str, body: MistObject) -> MistObject:
        """Update the device profile (a hub profile when type is gateway) fields sent."""
        return await self.update_org(org_id, "deviceprofiles", deviceprofile_id, body)

    async def delete_deviceprofile(self, org_id: str, deviceprofile_id: str) -> None:
        """Delete a device profile (a hub profile when type is gateway)."""
        await self.delete_org(org_id, "deviceprofiles", deviceprofile_id)

    async def list_gatewaytemplates(self, org_id: str) -> list[MistObject]:
        """Every gateway templates of the org."""
        return await self.list_org(org_id, "gatewaytemplates")

    async def create_gatewaytemplate(self, org_id: str, body: MistObject) -> MistObject:
        """Create a gateway template."""
        return await self.create_org(org_id, "gatewaytemplates", body)

    async def get_gatewaytemplate(self, org_id: str, gatewaytemplate_id: str) -> MistObject:
        """One gateway template."""
        return await self.get_org(org_id, "gatewaytemplates", gatewaytemplate_id)

    async def update_gatewaytemplate(self, org_id: str, gatewaytemplate_id: str, body: MistObject) -> MistObject:
        """Update the gateway template fields sent."""
        return await self.update_org(org_id, "gatewaytemplates", gatewaytemplate_id, body)

    async def delete_gatewaytemplate(self, org_id: str, gatewaytemplate_id: str) -> None:
        """Delete a gateway template."""
        await self.delete_org(org_id, "gatewaytemplates", gatewaytemplate_id)

    async def list_networktemplates(self, org_id: str) -> list[MistObject]:
        """Every switch templates of the org."""
        return await self.list_org(org_id, "networktemplates")

    async def create_networktemplate(self, org_id: str, body: MistObject) -> MistObject:
        """Create a switch template (network template)."""
        return await self.create_org(org_id, "networktemplates", body)

    async def get_networktemplate(self, org_id: str, networktemplate_id: str) -> MistObject:
        """One switch template (network template)."""
        return await self.get_org(org_id, "networktemplates", networktemplate_id)

    async def update_networktemplate(self, org_id: str, networktemplate_id: str, body: MistObject) -> MistObject:
        """Update the switch template (network template) fields sent."""
        return await self.update_org(org_id, "networktemplates", networktemplate_id, body)

    async def delete_networktemplate(self, org_id: str, networktemplate_id: str) -> None:
        """Delete a switch template (network template)."""
        await self.delete_org(org_id, "networktemplates", networktemplate_id)

    async def assign_deviceprofile(self, org_id: str, deviceprofile_id: str, macs: Sequence[str]) -> AssignResult:
        """Assign a device profile (e.g. a hub profile) to devices by MAC; safe to repeat, so retried."""
        return await self._profile_op(org_id, deviceprofile_id, "assign", macs)

    async def unassign_deviceprofile(self, org_id: str, deviceprofile_id: str, macs: Sequence[str]) -> AssignResult:
        """Take a device profile off devices by MAC; safe to repeat, so retried."""
        return await self._profile_op(org_id, deviceprofile_id, "unassign", macs)

    async def _profile_op(self, org_id: str, profile_id: str, op: str, macs: Sequence[str]) -> AssignResult:
        answer = await self._session.call(
            "POST",
            f"/orgs/{{org_id}}/deviceprofiles/{{deviceprofile_id}}/{op}",
            {"org_id": org_id, "deviceprofile_id": profile_id},
            body={"macs": list(macs)},
            idempotent=True,
        )
        return AssignResult.model_validate(_expect_dict(answer, f"{op} device profile"))
