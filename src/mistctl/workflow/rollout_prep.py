"""Preparing a rollout: its options, the fleet's devices as targets (what each runs, what it should
get, whether an upgrade is under way), the version's availability, and the waves."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mistctl.errors import UserError
from mistctl.mist.models_day2 import DeviceStats, mist_device_id
from mistctl.workflow.assure import DEFAULT_THRESHOLD, SleApi
from mistctl.workflow.rollout_io import FirmwareApi, Polling
from mistctl.workflow.rollout_plan import DEFAULT_WAVES, DEVICE_TYPES, By, Target, parse_waves, plan_waves
from mistctl.workflow.rollout_report import DeviceReport, RolloutReport

ACTIVE_FW = frozenset({"scheduled", "inprogress"})


class RolloutApi(FirmwareApi, SleApi, Protocol):
    """What a rollout calls: firmware, device stats, SLEs, and the org's sites."""

    async def list_org(self, org_id: str, collection: str, **query: Any) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class RolloutOptions:
    """What to roll out (or which run to roll back), where, and how carefully."""

    version: str = ""
    device_type: str | None = None
    waves: str = DEFAULT_WAVES
    by: By = "device"
    soak: float = 600.0
    threshold: float = DEFAULT_THRESHOLD
    max_drop: float = 0.05
    polling: Polling = field(default_factory=Polling)
    dry_run: bool = False
    concurrency: int = 8
    rollback: bool = True  # on a halt, put the halted wave's upgraded devices back
    rollback_of: str | None = None  # roll this run's devices back to their versions before it

    def check(self) -> None:
        """`UserError` for options that cannot make a rollout."""
        if self.rollback_of is None and self.version.lower() in ("stable", "latest", ""):
            raise UserError("name the exact firmware version (mistctl skips devices already on it); "
                            "GET /sites/{site_id}/devices/versions lists them")
        if self.rollback_of is not None and self.version:
            raise UserError("--rollback RUN puts each device back on its version before that run: "
                            "leave out --version")
        if self.device_type is not None and self.device_type not in DEVICE_TYPES:
            raise UserError(f"device type {self.device_type!r}: choose one of {', '.join(DEVICE_TYPES)}")
        if self.by not in ("device", "site"):
            raise UserError(f"--by {self.by!r}: choose device or site")
        try:
            parse_waves(self.waves)
        except ValueError as exc:
            raise UserError(str(exc)) from None


async def prepare(mist: RolloutApi, org_id: str, site_names: Sequence[str], opts: RolloutOptions) -> RolloutReport:
    """Read the sites' devices, skip those on the version, check it exists, and cut the waves."""
    opts.check()
    live = await live_sites(mist, org_id)
    report = RolloutReport(org_id, opts.version, missing_sites=[n for n in site_names if n not in live])
    sites = {n: live[n] for n in site_names if n in live}
    stats = await read_stats(mist, sites, opts)
    targets = [target(s, name, sites[name], opts.version) for name, ss in stats.items() for s in ss
               if wanted(s, opts)]
    pending = [t for t in targets if t.version != t.want]
    await _check_available(mist, pending, opts.version)
    cut_waves(report, targets, opts)
    return report


async def live_sites(mist: RolloutApi, org_id: str) -> dict[str, str]:
    """Site name -> Mist site id of the live org."""
    return {str(s.get("name")): str(s["id"]) for s in await mist.list_org(org_id, "sites")}


async def read_stats(mist: RolloutApi, sites: Mapping[str, str], opts: RolloutOptions) -> dict[str, list[DeviceStats]]:
    """Site name -> its devices' stats (one paged call per site, `concurrency` at once)."""
    gate = asyncio.Semaphore(opts.concurrency)

    async def one(site_id: str) -> list[DeviceStats]:
        async with gate:
            return await mist.list_site_device_stats(site_id, opts.device_type or "all")

    found = await asyncio.gather(*(one(i) for i in sites.values()))
    return dict(zip(sites, found, strict=True))


def wanted(s: DeviceStats, opts: RolloutOptions) -> bool:
    """A device of a type the rollout upgrades."""
    return bool(s.mac) and s.type in DEVICE_TYPES and (opts.device_type is None or s.type == opts.device_type)


def target(s: DeviceStats, site: str, site_id: str, want: str) -> Target:
    """The rollout's view of a device: what it runs, whether an upgrade is under way, what it should get."""
    fw = s.fwupdate
    upgrading = s.status == "upgrading" or (fw is not None and fw.status in ACTIVE_FW)
    return Target(str(s.mac).lower(), s.id or mist_device_id(str(s.mac)), site, site_id, s.type, s.model or "",
                  s.name or "", s.version, want=want, upgrading=upgrading)


def cut_waves(report: RolloutReport, targets: list[Target], opts: RolloutOptions) -> None:
    """Note every device (already there, or planned) and cut the pending ones into waves."""
    for t in targets:
        status = "already" if t.version == t.want else "planned"
        report.devices[t.mac] = DeviceReport(t, status, after=t.version if status == "already" else None)
    pending = [t for t in targets if t.version != t.want]
    report.waves = plan_waves(pending, parse_waves(opts.waves), opts.by)
    for wave in report.waves:
        for t in wave.targets:
            report.devices[t.mac].wave = wave.number
    for d in report.devices.values():
        if d.status == "planned" and d.wave is None:
            d.status, d.why = "untouched", "beyond the last wave"


async def _check_available(mist: RolloutApi, pending: list[Target], version: str) -> None:
    """Refuse a version some models cannot run, before anything is upgraded."""
    models: dict[tuple[str, str], str] = {}
    for t in pending:
        models.setdefault((t.type, t.model), t.site_id)
    missing = []
    for (kind, model), site_id in sorted(models.items()):
        offered = await mist.list_site_device_versions(site_id, kind, model=model or None)
        if not any(v.version == version for v in offered):
            missing.append(model or kind)
    if missing:
        raise UserError(f"version {version} is not offered for {', '.join(missing)}; "
                        "check the version (GET /sites/{site_id}/devices/versions) or narrow --device-type")
