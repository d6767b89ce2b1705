"""`MistClient`: the whole Mist API surface mistctl uses, over a handed `httpx.AsyncClient`.

Build it with `build_http_client` (or any `httpx.AsyncClient` whose base URL is the Mist host) and one
or more API tokens; hand it a `Clock` and a `CallBudget` to share time and rate state::

    async with build_http_client("api.mist.com") as http:
        client = MistClient(http, settings.tokens())
        sites = await client.list_sites(org_id)
"""

from __future__ import annotations

from mistctl.mist.ops_day2 import Day2Ops
from mistctl.mist.ops_org import OrgOps
from mistctl.mist.ops_sites import SiteOps
from mistctl.mist.ops_wireless import WirelessOps


class MistClient(SiteOps, OrgOps, WirelessOps, Day2Ops):
    """The Mist API client: generic org-collection calls plus a typed method per operation used."""

    def for_token(self, key: str) -> MistClient:
        """A client that sends with one of this client's tokens only (sharing budget and meter)."""
        twin = super().for_token(key)
        assert isinstance(twin, MistClient)
        return twin
