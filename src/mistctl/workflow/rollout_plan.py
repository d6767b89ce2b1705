"""The waves of a firmware rollout, as data: which devices each wave upgrades, and how.

A wave spec such as `1,10%,50%,100%` gives cumulative sizes: a bare number is a count, `N%` a share
of the devices (or sites, `by="site"`) still to upgrade. Wave 1 is the canary. Devices are ordered by
site name, then MAC, so the same fleet and versions always give the same waves. A wave that holds
every pending device of a site upgrades that site with one site-level call; the rest go per device.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

By = Literal["device", "site"]
DEFAULT_WAVES = "1,10%,50%,100%"
DEVICE_TYPES = ("ap", "switch", "gateway")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)(%?)$")


@dataclass(frozen=True)
class Target:
    """A device the rollout may upgrade, with what its stats said when read and the version it should get."""

    mac: str
    device_id: str
    site: str
    site_id: str
    type: str
    model: str = ""
    name: str = ""
    version: str | None = None
    want: str = ""  # the version to install (a rollback gives each device its own)
    upgrading: bool = False  # its stats showed an upgrade under way (a re-run after a kill adopts it)

    def to_json(self) -> dict[str, Any]:
        return {"mac": self.mac, "name": self.name, "site": self.site, "type": self.type, "model": self.model}


@dataclass(frozen=True)
class WaveSize:
    """One entry of a wave spec: a count, or a percentage of what is to upgrade."""

    value: float
    percent: bool

    def upto(self, total: int) -> int:
        """How many units the waves up to this one cover, out of `total`."""
        n = math.ceil(self.value * total / 100) if self.percent else int(self.value)
        return max(0, min(total, n))


@dataclass
class Wave:
    """One wave: its number (1 is the canary), its devices, and the sites it upgrades whole."""

    number: int
    targets: list[Target]
    whole_sites: set[str] = field(default_factory=set)

    @property
    def sites(self) -> list[str]:
        return sorted({t.site for t in self.targets})

    def to_json(self) -> dict[str, Any]:
        return {"wave": self.number, "devices": len(self.targets), "sites": self.sites,
                "site_level": sorted(self.whole_sites), "macs": [t.mac for t in self.targets]}


def parse_waves(spec: str) -> list[WaveSize]:
    """`1,10%,50%,100%` -> sizes; `ValueError` naming the entry when it is not a rising count or share."""
    sizes: list[WaveSize] = []
    for raw in (part.strip() for part in spec.split(",")):
        found = _SIZE.match(raw)
        if found is None or float(found.group(1)) <= 0:
            raise ValueError(f"wave {raw!r} in {spec!r}: write a count (1) or a share (10%), such as "
                             f"{DEFAULT_WAVES}")
        size = WaveSize(float(found.group(1)), bool(found.group(2)))
        if size.percent and size.value > 100:
            raise ValueError(f"wave {raw!r} in {spec!r}: a share is at most 100%")
        sizes.append(size)
    if not sizes:
        raise ValueError(f"no waves in {spec!r}; such as {DEFAULT_WAVES}")
    return sizes


def plan_waves(targets: list[Target], sizes: list[WaveSize], by: By = "device") -> list[Wave]:
    """Cut the devices to upgrade into waves (empty waves dropped); the last spec size bounds the total."""
    ordered = sorted(targets, key=lambda t: (t.site, t.mac))
    units: list[list[Target]] = _units(ordered, by)
    per_site: dict[str, int] = {}
    for t in ordered:
        per_site[t.site] = per_site.get(t.site, 0) + 1
    waves: list[Wave] = []
    done = 0
    for size in sizes:
        upto = size.upto(len(units))
        if upto <= done:
            continue
        chosen = [t for unit in units[done:upto] for t in unit]
        wave = Wave(len(waves) + 1, chosen)
        counts: dict[str, int] = {}
        for t in chosen:
            counts[t.site] = counts.get(t.site, 0) + 1
        wave.whole_sites = {s for s, n in counts.items() if n == per_site[s]}
        waves.append(wave)
        done = upto
    return waves


def _units(ordered: list[Target], by: By) -> list[list[Target]]:
    if by == "device":
        return [[t] for t in ordered]
    sites: dict[str, list[Target]] = {}
    for t in ordered:
        sites.setdefault(t.site, []).append(t)
    return list(sites.values())
