"""What the workflow needs from the outside world, as protocols (the adapters live in mist/ and store/)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from mistctl.mist.models import AssignResult, InventoryChangeResult, InventoryClaimResult, LicenseClaimResult


class MistApi(Protocol):
    """The part of `mistctl.mist.MistClient` the 13-step workflow calls."""

    @property
    def calls(self) -> CallCounter: ...

    async def list_org(self, org_id: str, collection: str, **query: Any) -> list[dict[str, Any]]: ...

    async def create_org(
        self, org_id: str, collection: str, body: dict[str, Any], **query: Any
    ) -> dict[str, Any]: ...

    async def update_org(
        self, org_id: str, collection: str, obj_id: str, body: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def claim_inventory(self, org_id: str, claim_codes: Sequence[str]) -> InventoryClaimResult: ...

    async def claim_activation_code(
        self, org_id: str, code: str, *, claim_type: str = "all"
    ) -> LicenseClaimResult: ...

    async def assign_inventory(
        self, org_id: str, site_id: str, macs: Sequence[str], *, no_reassign: bool = False
    ) -> InventoryChangeResult: ...

    async def update_site(self, site_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    async def list_site_devices(self, site_id: str, type: str = "all") -> list[dict[str, Any]]: ...

    async def update_site_device(self, site_id: str, device_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    async def assign_deviceprofile(self, org_id: str, deviceprofile_id: str, macs: Sequence[str]) -> AssignResult: ...

    async def get_site_setting(self, site_id: str) -> dict[str, Any]: ...

    async def update_site_setting(self, site_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    # deletes (workflow.delete): a lost answer is looked up, never retried blindly
    async def get_org(self, org_id: str, collection: str, obj_id: str) -> dict[str, Any]: ...

    async def delete_org(self, org_id: str, collection: str, obj_id: str, *, retry_lost: bool = True) -> None: ...

    async def get_site(self, site_id: str) -> dict[str, Any]: ...

    async def delete_site(self, site_id: str, *, retry_lost: bool = True) -> None: ...

    async def unassign_inventory(self, org_id: str, macs: Sequence[str]) -> InventoryChangeResult: ...

    async def delete_inventory(self, org_id: str, serials: Sequence[str]) -> InventoryChangeResult: ...


class CallCounter(Protocol):
    """How many calls a client has made (its meter's snapshot)."""

    @property
    def total(self) -> int: ...


class Progress(Protocol):
    """Receives the workflow's events (terminal display, SSE stream, store)."""

    def __call__(self, event: dict[str, Any]) -> None: ...
