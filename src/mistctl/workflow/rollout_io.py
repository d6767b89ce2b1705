"""Starting a wave's upgrades and waiting for them, with polls that back off within a time budget.

A wave's whole sites are upgraded with one site-level call each (`POST /sites/{id}/devices/upgrade`
naming the devices, strategy big_bang: the wave is the canary step already); other devices one call
each. Switches and gateways are sent `reboot: true`: the spec's default is false, which only stages
the firmware (the device keeps its version and the wave would time out). SSR gateways have their own
upgrade operation (`upgradeSsr`), so they always go one call each.
Starting an upgrade is never retried blindly: a lost answer is resolved by reading the site's
upgrades or the device's stats (see `mistctl.mist.ops_day2`). Completion is read from the site
upgrade's result lists and from one device-stats list per site per poll, never one call per device.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from mistctl.domain.durations import format_duration
from mistctl.mist.errors import MistError, OutcomeUnknown
from mistctl.mist.models_day2 import DeviceStats, DeviceUpgradeStarted, DeviceVersion, SiteUpgrade
from mistctl.workflow.context import call_scope
from mistctl.workflow.rollout_journal import Journal
from mistctl.workflow.rollout_plan import Target, Wave

Sleep = Callable[[float], Awaitable[None]]
ACTIVE = frozenset({"scheduled", "inprogress", "success", "upgraded"})
FAILED = frozenset({"failed", "error"})


class FirmwareApi(Protocol):
    """The firmware and device-stats calls of `mistctl.mist.MistClient`."""

    async def list_site_device_stats(self, site_id: str, type: str = "all") -> list[DeviceStats]: ...

    async def list_site_device_versions(self, site_id: str, type: str | None = None, *,
                                        model: str | None = None) -> list[DeviceVersion]: ...

    async def upgrade_device(self, site_id: str, device_id: str, version: str,
                             **opts: Any) -> DeviceUpgradeStarted: ...

    async def upgrade_site_devices(self, site_id: str, body: dict[str, Any]) -> str: ...

    async def upgrade_ssr(self, site_id: str, device_id: str, version: str, **opts: Any) -> dict[str, Any]: ...

    async def get_site_device_upgrade(self, site_id: str, upgrade_id: str) -> SiteUpgrade: ...

    async def list_site_device_upgrades(self, site_id: str, status: str | None = None) -> list[SiteUpgrade]: ...

    async def get_site_device_stats(self, site_id: str, device_id: str) -> DeviceStats: ...


@dataclass
class Started:
    """The upgrades a wave started: per site (its upgrade id), per device (Mist's start time)."""

    site_jobs: dict[str, tuple[str, list[Target]]] = field(default_factory=dict)  # "<site id>/<version>" ->
    device_jobs: dict[str, tuple[Target, float]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # mac -> why the start was refused


@dataclass(frozen=True)
class Polling:
    """How completion is awaited: first delay, longest delay, and the budget for the whole wave."""

    first: float = 5.0
    longest: float = 60.0
    budget: float = 1800.0


async def start_wave(mist: FirmwareApi, wave: Wave, *, journal: Journal | None = None,
                     concurrency: int = 8) -> Started:
    """Start every upgrade of the wave (each device to its `want`); a refused start is recorded, not raised.

    A device whose stats showed an upgrade under way (a re-run after a kill) is adopted, not sent again.
    """
    started = Started()
    gate = asyncio.Semaphore(concurrency)
    for t in wave.targets:
        if t.upgrading:
            started.device_jobs[t.mac] = (t, 0.0)
    by_site: dict[tuple[str, str], list[Target]] = {}
    for t in wave.targets:
        if not t.upgrading:
            by_site.setdefault((t.site, t.want), []).append(t)

    async def site(targets: list[Target]) -> None:
        async with gate:
            await _start_site(mist, targets, started, journal)

    async def device(target: Target) -> None:
        async with gate:
            await _start_device(mist, target, started, journal)

    whole = {key: [t for t in ts if not is_ssr(t)] for key, ts in by_site.items() if key[0] in wave.whole_sites}
    jobs = [site(ts) for ts in whole.values() if ts]
    jobs += [device(t) for key, ts in by_site.items() for t in ts if key[0] not in wave.whole_sites or is_ssr(t)]
    await asyncio.gather(*jobs)
    return started


def is_ssr(target: Target) -> bool:
    """An SSR (128T) gateway: upgraded with `upgradeSsr`, one call each."""
    return target.type == "gateway" and target.model.upper().startswith("SSR")


def needs_reboot(targets: list[Target]) -> bool:
    """Switches and gateways boot the new firmware only when asked (`reboot` defaults to false)."""
    return any(t.type in ("switch", "gateway") for t in targets)


async def _start_site(mist: FirmwareApi, targets: list[Target], started: Started, journal: Journal | None) -> None:
    site_id, version = targets[0].site_id, targets[0].want
    body: dict[str, Any] = {"version": version, "strategy": "big_bang", "device_ids": [t.device_id for t in targets]}
    if needs_reboot(targets):
        body["reboot"] = True
    if journal is not None:
        await journal.sent(targets, "POST", f"/api/v1/sites/{site_id}/devices/upgrade")
    try:
        with call_scope(targets[0].site, "firmware", targets[0].site):
            try:
                upgrade_id = await mist.upgrade_site_devices(site_id, body)
            except OutcomeUnknown:
                upgrade_id = await _find_site_upgrade(mist, site_id, version)
        started.site_jobs[f"{site_id}/{version}"] = (upgrade_id, targets)
    except MistError as exc:
        started.failed.update({t.mac: f"the upgrade could not start: {exc}" for t in targets})
    finally:
        if journal is not None:
            await journal.records.flush_audit((targets[0].site, "firmware", targets[0].site))


async def _find_site_upgrade(mist: FirmwareApi, site_id: str, version: str) -> str:
    """The upgrade a lost answer started, if any (a running upgrade to the same version)."""
    for upgrade in await mist.list_site_device_upgrades(site_id):
        if upgrade.target_version == version and not upgrade.finished:
            return upgrade.id
    raise OutcomeUnknown("the upgrade call's answer was lost and the site shows no upgrade to that version")


async def _start_device(mist: FirmwareApi, target: Target, started: Started, journal: Journal | None) -> None:
    if journal is not None:
        await journal.sent([target], "POST", _device_path(target))
    try:
        with call_scope(target.site, "firmware", target.mac):
            try:
                when = await _send_device(mist, target, target.want)
            except OutcomeUnknown:
                when = await _find_device_upgrade(mist, target, target.want)
        started.device_jobs[target.mac] = (target, when)
    except MistError as exc:
        started.failed[target.mac] = f"the upgrade could not start: {exc}"
    finally:
        if journal is not None:
            await journal.answered([target])


def _device_path(t: Target) -> str:
    if is_ssr(t):
        return f"/api/v1/sites/{t.site_id}/ssr/{t.device_id}/upgrade"
    return f"/api/v1/sites/{t.site_id}/devices/{t.device_id}/upgrade"


async def _send_device(mist: FirmwareApi, target: Target, version: str) -> float:
    """One device's upgrade call; Mist's start time (0 for an SSR, whose answer carries none)."""
    if is_ssr(target):
        await mist.upgrade_ssr(target.site_id, target.device_id, version)
        return 0.0
    opts = {"reboot": True} if needs_reboot([target]) else {}
    answer = await mist.upgrade_device(target.site_id, target.device_id, version, **opts)
    return answer.timestamp


async def _find_device_upgrade(mist: FirmwareApi, target: Target, version: str) -> float:
    stats = await mist.get_site_device_stats(target.site_id, target.device_id)
    fw = stats.fwupdate
    if stats.version == version or (fw is not None and fw.status in ACTIVE):
        return float(fw.timestamp or 0.0) if fw is not None else 0.0
    raise OutcomeUnknown("the upgrade call's answer was lost and the device shows no upgrade")


async def wait_wave(mist: FirmwareApi, started: Started, *, polling: Polling,
                    sleep: Sleep) -> dict[str, tuple[str, str | None]]:
    """Poll (backing off) until every started upgrade ended or the budget is spent: mac -> (status, why)."""
    results: dict[str, tuple[str, str | None]] = {m: ("failed", why) for m, why in started.failed.items()}
    pending_sites = dict(started.site_jobs)
    pending_devices = dict(started.device_jobs)
    delay, waited = polling.first, 0.0
    while True:
        await _poll_sites(mist, pending_sites, results)
        await _poll_devices(mist, pending_devices, results)
        if not pending_sites and not pending_devices:
            return results
        if waited >= polling.budget:
            break
        step = min(delay, polling.budget - waited)
        await sleep(step)
        waited += step
        delay = min(polling.longest, delay * 2)
    why = f"not finished within {format_duration(polling.budget)}"
    for _upgrade_id, targets in pending_sites.values():
        results.update({t.mac: ("timeout", why) for t in targets})
    results.update(dict.fromkeys(pending_devices, ("timeout", why)))
    return results


async def _poll_sites(mist: FirmwareApi, pending: dict[str, tuple[str, list[Target]]],
                      results: dict[str, tuple[str, str | None]]) -> None:
    for key, (upgrade_id, targets) in list(pending.items()):
        upgrade = await mist.get_site_device_upgrade(targets[0].site_id, upgrade_id)
        if not upgrade.finished:
            continue
        del pending[key]
        done = {str(m).lower() for m in upgrade.targets.get("upgraded") or []}
        failed = {str(m).lower() for m in upgrade.targets.get("failed") or []}
        for t in targets:
            if t.mac in done:
                results[t.mac] = ("upgraded", None)
            else:
                why = "the device reported its upgrade failed" if t.mac in failed else (
                    f"not upgraded (site upgrade {upgrade.status})")
                results[t.mac] = ("failed", why)


async def _poll_devices(mist: FirmwareApi, pending: dict[str, tuple[Target, float]],
                        results: dict[str, tuple[str, str | None]]) -> None:
    sites = {(t.site_id, t.type) for t, _ in pending.values()}
    for site_id, kind in sorted(sites):
        for stats in await mist.list_site_device_stats(site_id, kind):
            mac = str(stats.mac or "").lower()
            if mac not in pending:
                continue
            target, since = pending[mac]
            fw = stats.fwupdate
            if stats.version == target.want:
                results[mac] = ("upgraded", None)
            elif fw is not None and fw.status in FAILED and float(fw.timestamp or 0.0) >= since:
                results[mac] = ("failed", "the device reported its upgrade failed")
            else:
                continue
            del pending[mac]
