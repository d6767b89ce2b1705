"""Infer an IP plan from the variables sites already have: the inverse of `ipplan` / `iplayout`.

Segments are the `{seg}_subnet` variables most sites share (VLAN from `{seg}_vlan`, prefix from the
subnet), in address order. Candidate plans are built for both schemes (octet: every segment a /24,
offsets from the second octets; hierarchical: site blocks, zones and supernet sized from the
addresses) and each is scored by how many sites `placement.place` fits; the best wins when it fits
any site. Sites that do not fit keep their variables as their own, with the reason.
Scoring uses a sample of the sites, so inferring a plan for many thousands stays quick.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network

from mistctl.domain.fleet import IpPlanSpec, SegmentSpec
from mistctl.domain.iplayout import layout_problems
from mistctl.domain.placement import Placement, _subnet, locate, place

SiteVars = Mapping[str, Mapping[str, str]]
_SAMPLE = 64


@dataclass
class Inference:
    """The plan found (None: no plan fits any site), its zones, and every site's placement."""

    spec: IpPlanSpec | None
    zones: dict[int, str] = field(default_factory=dict)
    placements: dict[str, Placement] = field(default_factory=dict)
    note: str | None = None  # why there is no plan

    @property
    def misfits(self) -> dict[str, str]:
        return {n: str(p.reason) for n, p in self.placements.items() if not p.fits}


def infer(site_vars: SiteVars, *, complete: bool = True) -> Inference:
    """The plan that fits the most sites (`complete`: a fitting site holds every planned variable)."""
    segs = _segments(site_vars)
    if not segs:
        return _planless(site_vars, "the sites share no {segment}_subnet variables to infer a plan from")
    sample = dict(list(site_vars.items())[:_SAMPLE])
    best: tuple[int, IpPlanSpec | None] = (0, None)
    first: IpPlanSpec | None = None
    for candidate in _candidates(segs, sample):
        first = first or candidate
        zones = _zone_names(candidate, sample)
        fits = sum(place(candidate, zones, v, complete=complete).fits for v in sample.values())
        if fits > best[0]:
            best = (fits, candidate)
    spec = best[1]
    if spec is None:
        return _fits_none(site_vars, first, complete)
    zones = _zone_names(spec, site_vars)
    placements = {n: place(spec, zones, v, complete=complete) for n, v in site_vars.items()}
    used = {p.zone for p in placements.values() if p.fits}
    return Inference(spec, {z: n for z, n in zones.items() if z in used}, placements)


def _fits_none(site_vars: SiteVars, closest: IpPlanSpec | None, complete: bool) -> Inference:
    """No plan: each site says why the closest candidate does not fit it."""
    note = "no hierarchical or octet plan reproduces any site's addresses"
    if closest is None:
        return _planless(site_vars, note)
    zones = _zone_names(closest, site_vars)
    placements = {n: place(closest, zones, v, complete=complete) for n, v in site_vars.items()}
    why = {n: f"{note}; the closest: {p.reason or 'fits this site only'}" for n, p in placements.items()}
    return Inference(None, {}, {n: Placement(own=dict(site_vars[n]), reason=why[n]) for n in placements}, note)


def _planless(site_vars: SiteVars, note: str) -> Inference:
    placements = {n: Placement(own=dict(v), reason=note) for n, v in site_vars.items()}
    return Inference(None, {}, placements, note)


@dataclass(frozen=True)
class _Seg:
    name: str
    vlan: int
    prefix: int


def _segments(site_vars: SiteVars) -> list[_Seg]:
    counts: Counter[str] = Counter()
    prefixes: dict[str, Counter[int]] = {}
    for variables in site_vars.values():
        for key, value in variables.items():
            net = _subnet(value) if key.endswith("_subnet") else None
            if net is not None:
                name = key.removesuffix("_subnet")
                counts[name] += 1
                prefixes.setdefault(name, Counter())[net.prefixlen] += 1
    names = [n for n, c in counts.items() if c * 2 >= len(site_vars) and n]
    ref = next((v for v in site_vars.values() if all(_subnet(v.get(f"{n}_subnet")) for n in names)), None)
    if ref is None:
        return []
    names.sort(key=lambda n: int(IPv4Network(ref[f"{n}_subnet"].strip()).network_address))
    return [_Seg(n, _vlan(site_vars, n, i), prefixes[n].most_common(1)[0][0]) for i, n in enumerate(names)]


def _vlan(site_vars: SiteVars, name: str, index: int) -> int:
    seen = Counter(v[f"{name}_vlan"] for v in site_vars.values() if v.get(f"{name}_vlan", "").isdigit())
    return int(seen.most_common(1)[0][0]) if seen else 10 * (index + 1)


def _starts(segs: list[_Seg], sample: SiteVars) -> list[int]:
    out = []
    for variables in sample.values():
        net = _subnet(variables.get(f"{segs[0].name}_subnet"))
        if net is not None:
            out.append(int(net.network_address))
    return out


def _candidates(segs: list[_Seg], sample: SiteVars) -> Iterator[IpPlanSpec]:
    starts = _starts(segs, sample)
    if not starts:
        return
    yield from _octet_candidates(segs, sample, starts)
    yield from _hierarchical_candidates(segs, starts)


def _octet_candidates(segs: list[_Seg], sample: SiteVars, starts: list[int]) -> Iterator[IpPlanSpec]:
    if any(s.prefix != 24 for s in segs):
        return
    first = Counter(a >> 24 for a in starts).most_common(1)[0][0]
    diffs: Counter[tuple[int, ...]] = Counter()
    zone_offsets: Counter[int] = Counter()
    for variables in sample.values():
        nets = [_subnet(variables.get(f"{s.name}_subnet")) for s in segs]
        if any(n is None for n in nets):
            continue
        seconds = [int(n.network_address) >> 16 & 255 for n in nets if n is not None]
        diffs[tuple(o - seconds[0] for o in seconds)] += 1
        if variables.get("zone_id", "").isdigit():
            zone_offsets[seconds[0] - int(variables["zone_id"])] += 1
    if not diffs:
        return
    steps = diffs.most_common(1)[0][0]
    zeros = [zone_offsets.most_common(1)[0][0]] if zone_offsets else []
    for zero in dict.fromkeys([*zeros, 0]):
        spec = _spec("octet", first << 24, 8, None, None, segs, [zero + d for d in steps])
        if spec is not None:
            yield spec


def _hierarchical_candidates(segs: list[_Seg], starts: list[int]) -> Iterator[IpPlanSpec]:
    site_min = 32 - (_carved_size(segs) - 1).bit_length()
    first = Counter(a >> 24 for a in starts).most_common(1)[0][0]  # the main group: strays fit nothing
    main = [a for a in starts if a >> 24 == first]
    common = min(_common_prefix(main), site_min)
    for supernet_prefix in sorted({p for p in (8, 12, 16, common) if 1 <= p <= common}):
        base = main[0] >> (32 - supernet_prefix) << (32 - supernet_prefix)
        yield from _zoned(segs, base, supernet_prefix, site_min)


def _zoned(segs: list[_Seg], base: int, supernet_prefix: int, site_min: int) -> Iterator[IpPlanSpec]:
    for site_prefix in range(site_min, max(supernet_prefix, site_min - 8) - 1, -1):
        preferred = min(site_prefix, supernet_prefix + 3)
        zone_prefixes = [preferred, *(z for z in range(site_prefix, supernet_prefix - 1, -1) if z != preferred)]
        for zone_prefix in zone_prefixes:
            spec = _spec("hierarchical", base, supernet_prefix, zone_prefix, site_prefix, segs, None)
            if spec is not None:
                yield spec


def _carved_size(segs: list[_Seg]) -> int:
    offset = 0
    for seg in segs:
        size = 1 << (32 - seg.prefix)
        offset = -(-offset // size) * size + size
    return offset


def _common_prefix(addresses: list[int]) -> int:
    lo, hi = min(addresses), max(addresses)
    return 32 - (lo ^ hi).bit_length()


def _spec(
    scheme: str, base: int, prefix: int, zone_prefix: int | None, site_prefix: int | None,
    segs: list[_Seg], offsets: list[int] | None,
) -> IpPlanSpec | None:
    segments = tuple(
        SegmentSpec(name=s.name, vlan=s.vlan, prefix=None if offsets is not None else s.prefix,
                    octet_offset=None if offsets is None else offsets[i])
        for i, s in enumerate(segs)
    )
    spec = IpPlanSpec.model_validate({
        "scheme": scheme, "supernet": IPv4Network((base, prefix)), "zone_prefix": zone_prefix,
        "site_prefix": site_prefix, "segments": segments,
    })
    return None if layout_problems(spec) else spec


def _zone_names(spec: IpPlanSpec, site_vars: SiteVars) -> dict[int, str]:
    """Every zone the sites' subnets land in, named by their `zone_name` variable (else zone-N)."""
    named: dict[int, Counter[str]] = {}
    for variables in site_vars.values():
        where = locate(spec, variables)
        if isinstance(where, tuple):
            names = named.setdefault(where[0], Counter())
            if variables.get("zone_name"):
                names[variables["zone_name"]] += 1
    zones: dict[int, str] = {}
    for zone_id, names in sorted(named.items()):
        name = names.most_common(1)[0][0] if names else f"zone-{zone_id}"
        zones[zone_id] = name if name not in zones.values() else f"{name}-{zone_id}"  # names are unique
    return zones
