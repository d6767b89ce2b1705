"""What the workflow needs from the outside world, as protocols (the adapters live in mist/ and store/)."""

from __future__ import annotations

from typing import Any, Protocol


class MistApi(Protocol):
    """The part of `mistctl.mist.MistClient` the 13-step workflow calls."""

    async def list_org(self, org_id: str, collection: str, **query: Any) -> list[dict[str, Any]]: ...

    async def create_org(
        self, org_id: str, collection: str, body: dict[str, Any], **query: Any
    ) -> dict[str, Any]: ...

    async def update_org(
        self, org_id: str, collection: str, obj_id: str, body: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def update_site(self, site_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    async def get_site_setting(self, site_id: str) -> dict[str, Any]: ...

    async def update_site_setting(self, site_id: str, body: dict[str, Any]) -> dict[str, Any]: ...


class Progress(Protocol):
    """Receives the workflow's events (terminal display, SSE stream, store)."""

    def __call__(self, event: dict[str, Any]) -> None: ...
