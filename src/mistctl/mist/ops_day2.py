"""Typed calls for Day 2: site SLEs (one site or every site at once), firmware versions and upgrades,
device stats (with their `fwupdate` progress) and a site's devices.

Starting an upgrade is a POST and is not retried: a lost answer (or a 5xx) raises `OutcomeUnknown`,
because a retried upgrade would start a second one. The caller learns the outcome by reading:

- one device (`upgrade_device`): `get_site_device_stats(site_id, device_id)`; an upgrade that took
  shows `fwupdate.status` `scheduled`/`inprogress`/`success`/`failed` with a `timestamp` at or after
  the call, or `version` already equal to the target; otherwise it did not happen and may be sent again.
- a site (`upgrade_site_devices`): `list_site_device_upgrades(site_id)` and look for an upgrade with
  the same `target_version` started at or after the call; none means it did not happen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from mistctl.mist.core import ClientCore, _expect_dict, _expect_list
from mistctl.mist.errors import MalformedResponse, NotFound
from mistctl.mist.models import MistObject

if TYPE_CHECKING:
    from mistctl.mist.models_day2 import (
        DeviceStats,
        DeviceUpgradeStarted,
        DeviceVersion,
        SiteSle,
        SiteUpgrade,
        SleMetrics,
        SleSummary,
    )

_SITE_SLE = "/sites/{site_id}/sle/site/{scope_id}"
_UPGRADES = "/sites/{site_id}/devices/upgrade"
#: Page size of the org-wide SLE insights (Mist's default is 100; one page covers 1000 sites).
SLE_PAGE_SIZE = 1000


class Day2Ops(ClientCore):
    """SLEs, firmware upgrades and device stats: what assurance gates and rollouts read and start."""

    #: Set once `summary-trend` answered 404 where `summary` answered: this Mist (or spec) lacks it.
    _trend_missing: bool = False

    # -- SLE -----------------------------------------------------------------------------------

    async def list_site_sle_metrics(self, site_id: str) -> SleMetrics:
        """The SLE metric names the site supports and has enabled (names as Mist spells them)."""
        from mistctl.mist.models_day2 import SleMetrics  # imported at the first Day 2 call

        answer = await self._session.call(
            "GET", f"{_SITE_SLE}/metrics", {"site_id": site_id, "scope_id": site_id}
        )
        return SleMetrics.model_validate(_expect_dict(answer, "list site SLE metrics"))

    async def get_site_sle_summary(
        self,
        site_id: str,
        metric: str,
        *,
        start: int | str | None = None,
        end: int | str | None = None,
        duration: str | None = None,
    ) -> SleSummary:
        """One metric's summary for a site; `SleSummary.value` is the SLE over the window (default 1d)."""
        from mistctl.mist.models_day2 import SleSummary  # imported at the first Day 2 call

        query = {"start": start, "end": end, "duration": duration}
        answer = await self._session.call(
            "GET",
            f"{_SITE_SLE}/metric/{{metric}}/summary",
            {"site_id": site_id, "scope_id": site_id, "metric": metric},
            query={k: v for k, v in query.items() if v is not None},
        )
        return SleSummary.model_validate(_expect_dict(answer, f"get site SLE summary {metric}"))

    async def get_site_sle_trend(self, site_id: str, metric: str, *, duration: str | None = None) -> SleSummary:
        """One metric over the window from `summary-trend` where Mist serves it, else from `summary`.

        Mist is deprecating `summary` for `summary-trend` (mistapi `getSiteSleSummaryTrend`); the vendored
        spec (2509.1.2) has only `getSiteSleSummary`, so a 404 there falls back, and is remembered.
        """
        from mistctl.mist.models_day2 import SleSummary  # imported at the first Day 2 call

        if not self._trend_missing:
            query = {"duration": duration} if duration else {}
            try:
                answer = await self._session.call(
                    "GET", f"{_SITE_SLE}/metric/{{metric}}/summary-trend",
                    {"site_id": site_id, "scope_id": site_id, "metric": metric}, query=query,
                )
                return SleSummary.model_validate(_expect_dict(answer, f"get site SLE summary trend {metric}"))
            except (NotFound, ValidationError):
                summary = await self.get_site_sle_summary(site_id, metric, duration=duration)
                self._trend_missing = True
                return summary
        return await self.get_site_sle_summary(site_id, metric, duration=duration)

    async def get_org_sites_sle(self, org_id: str, sle: str, **query: Any) -> list[SiteSle]:
        """Every site's SLE values of one family (`wifi`, `wired`, `wan`), all pages (1000 sites a call).

        `query` takes Mist's `start`, `end`, `duration`, `interval`, `limit`.
        """
        from mistctl.mist.models_day2 import SiteSle  # imported at the first Day 2 call

        limit = int(query.pop("limit", SLE_PAGE_SIZE))
        results: list[SiteSle] = []
        page = 1
        while True:
            answer = await self._session.call(
                "GET",
                "/orgs/{org_id}/insights/sites-sle",
                {"org_id": org_id},
                query={**query, "sle": sle, "limit": limit, "page": page},
            )
            body = _expect_dict(answer, f"get org sites SLE ({sle})")
            batch = body.get("results")
            if not isinstance(batch, list):
                raise MalformedResponse(f"get org sites SLE ({sle}): no results list in the answer")
            results.extend(SiteSle.model_validate(item) for item in batch)
            total = body.get("total")
            if not batch or not isinstance(total, int) or page * limit >= total:
                return results
            page += 1

    # -- firmware ------------------------------------------------------------------------------

    async def list_site_device_versions(
        self, site_id: str, type: str | None = None, *, model: str | None = None
    ) -> list[DeviceVersion]:
        """Firmware versions available for the site's devices of a type (Mist's default type is `ap`)."""
        from mistctl.mist.models_day2 import DeviceVersion  # imported at the first Day 2 call

        query = {k: v for k, v in {"type": type, "model": model}.items() if v is not None}
        answer = await self._session.call(
            "GET", "/sites/{site_id}/devices/versions", {"site_id": site_id}, query=query
        )
        items = _expect_list(answer, "list site device versions")
        return [DeviceVersion.model_validate(item) for item in items]

    async def upgrade_device(
        self, site_id: str, device_id: str, version: str, **opts: Any
    ) -> DeviceUpgradeStarted:
        """Start one device's upgrade; `opts` are Mist's `reboot`, `reboot_at`, `snapshot`, `start_time`.

        Not retried: a lost answer raises `OutcomeUnknown` (see the module docstring to resolve it).
        """
        from mistctl.mist.models_day2 import DeviceUpgradeStarted  # imported at the first Day 2 call

        answer = await self._session.call(
            "POST",
            "/sites/{site_id}/devices/{device_id}/upgrade",
            {"site_id": site_id, "device_id": device_id},
            body={**opts, "version": version},
        )
        return DeviceUpgradeStarted.model_validate(_expect_dict(answer, "upgrade device"))

    async def upgrade_ssr(self, site_id: str, device_id: str, version: str, **opts: Any) -> MistObject:
        """Start an SSR gateway's upgrade (`upgradeSsr`; it reboots unless `reboot_at` is -1).

        Not retried: a lost answer raises `OutcomeUnknown`; read the device's stats as for `upgrade_device`.
        """
        answer = await self._session.call(
            "POST",
            "/sites/{site_id}/ssr/{device_id}/upgrade",
            {"site_id": site_id, "device_id": device_id},
            body={**opts, "version": version},
        )
        return _expect_dict(answer, "upgrade SSR")

    async def upgrade_site_devices(self, site_id: str, body: MistObject) -> str:
        """Start a site-wide upgrade (`upgrade_site_devices`: device_ids, version, strategy...); its id.

        Not retried: a lost answer raises `OutcomeUnknown` (see the module docstring to resolve it).
        """
        answer = await self._session.call("POST", _UPGRADES, {"site_id": site_id}, body=body)
        upgrade_id = _expect_dict(answer, "upgrade site devices").get("upgrade_id")
        if not isinstance(upgrade_id, str) or not upgrade_id:
            raise MalformedResponse("upgrade site devices: the answer has no upgrade_id")
        return upgrade_id

    async def get_site_device_upgrade(self, site_id: str, upgrade_id: str) -> SiteUpgrade:
        """One site-wide upgrade: status, plan and the MACs in each state (`targets`)."""
        from mistctl.mist.models_day2 import SiteUpgrade  # imported at the first Day 2 call

        answer = await self._session.call(
            "GET", f"{_UPGRADES}/{{upgrade_id}}", {"site_id": site_id, "upgrade_id": upgrade_id}
        )
        return SiteUpgrade.model_validate(_expect_dict(answer, "get site device upgrade"))

    async def cancel_site_device_upgrade(self, site_id: str, upgrade_id: str) -> None:
        """Cancel the devices of an upgrade that have not started (those upgrading finish)."""
        await self._session.call(
            "POST", f"{_UPGRADES}/{{upgrade_id}}/cancel", {"site_id": site_id, "upgrade_id": upgrade_id}
        )

    async def list_site_device_upgrades(self, site_id: str, status: str | None = None) -> list[SiteUpgrade]:
        """The site's upgrades (with `counts` per state), optionally of one status."""
        from mistctl.mist.models_day2 import SiteUpgrade  # imported at the first Day 2 call

        query = {"status": status} if status else None
        answer = await self._session.call("GET", _UPGRADES, {"site_id": site_id}, query=query)
        return [
            SiteUpgrade.model_validate(item) for item in _expect_list(answer, "list site device upgrades")
        ]

    # -- devices -------------------------------------------------------------------------------

    async def get_site_device_stats(self, site_id: str, device_id: str) -> DeviceStats:
        """A device's stats: running `version` and `fwupdate` progress (raises `NotFound`)."""
        from mistctl.mist.models_day2 import DeviceStats  # imported at the first Day 2 call

        answer = await self._session.call(
            "GET", "/sites/{site_id}/stats/devices/{device_id}", {"site_id": site_id, "device_id": device_id}
        )
        return DeviceStats.model_validate(_expect_dict(answer, "get site device stats"))

    async def list_site_device_stats(self, site_id: str, type: str = "all") -> list[DeviceStats]:
        """Every device's stats at a site in one paged call (Mist's default type is `ap`; here `all`)."""
        from mistctl.mist.models_day2 import DeviceStats  # imported at the first Day 2 call

        items = await self._list("/sites/{site_id}/stats/devices", {"site_id": site_id}, {"type": type})
        return [DeviceStats.model_validate(item) for item in items]

    async def list_site_devices(self, site_id: str, type: str = "all") -> list[MistObject]:
        """The site's devices (config objects), all pages (Mist's default type is `ap`; here `all`)."""
        return await self._list("/sites/{site_id}/devices", {"site_id": site_id}, {"type": type})
