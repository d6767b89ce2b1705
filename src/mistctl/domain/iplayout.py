"""The IP plan compiled to integers: the layout of zones, site blocks and segments, and its checks.

`mistctl.domain.ipplan` documents the formulas and plans sites; this module turns a spec into the
numbers planning needs (once per spec) and says, in words, what is wrong with a spec or a place.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from mistctl.domain.errors import PlanError
from mistctl.domain.fleet import IpPlanSpec

_OCTET_OFFSETS = (0, 100, 150, 200)
_MAX_SEGMENT_PREFIX = 30  # a segment needs a gateway and at least one host


@dataclass(frozen=True, slots=True)
class Seg:
    """A segment placed in the layout."""

    name: str
    vlan: int
    offset: int  # hierarchical: address offset in the block; octet: added to the zone id
    prefix: int


@dataclass(frozen=True)
class Layout:
    """A spec compiled to integers: what planning one site needs, computed once per spec."""

    scheme: str
    base: int
    zone_size: int
    zone_count: int
    block_size: int
    block_prefix: int
    capacity: int
    segs: tuple[Seg, ...]
    reserved: tuple[tuple[int, int, IPv4Network], ...]

    def site_ranges(self, zone_id: int, number: int) -> list[tuple[int, int]]:
        """The [first, last] address ranges a site occupies (its block, or its /24s for octet)."""
        if self.scheme == "octet":
            return [(a, a + 255) for a in (self.octet_net(s, zone_id, number) for s in self.segs)]
        start = self.base + (zone_id - 1) * self.zone_size + (number - 1) * self.block_size
        return [(start, start + self.block_size - 1)]

    def octet_net(self, seg: Seg, zone_id: int, number: int) -> int:
        return self.base | (seg.offset + zone_id) << 16 | number << 8


def layout_problems(spec: IpPlanSpec) -> list[str]:
    """What is wrong with a plan spec (segments that do not fit, prefixes out of order), in words."""
    problems = _segment_name_problems(spec)
    if spec.scheme == "octet":
        return problems + _octet_problems(spec)
    return problems + _hierarchical_problems(spec)


def _segment_name_problems(spec: IpPlanSpec) -> list[str]:
    problems: list[str] = []
    names = [s.name for s in spec.segments]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"segment name '{name}' is used twice: segment names must be unique")
    return problems


def _hierarchical_problems(spec: IpPlanSpec) -> list[str]:
    net = spec.supernet.prefixlen
    zone_p, site_p = spec.zone_prefix, spec.site_prefix
    if zone_p is None or site_p is None:
        return ["the hierarchical scheme needs zone_prefix and site_prefix (e.g. 11 and 22 for a /8)"]
    if not net <= zone_p <= site_p <= _MAX_SEGMENT_PREFIX:
        return [
            f"prefixes must nest: supernet /{net} <= zone_prefix /{zone_p} <= site_prefix /{site_p} <= /30;"
            " fix zone_prefix or site_prefix"
        ]
    problems = []
    for seg in spec.segments:
        if seg.prefix is None or not site_p <= seg.prefix <= _MAX_SEGMENT_PREFIX:
            problems.append(f"segment '{seg.name}' needs a prefix between /{site_p} (the site block) and /30")
    if not problems:
        problems += _carve_problems(spec, site_p)
    return problems


def _carve(spec: IpPlanSpec) -> tuple[list[Seg], int]:
    """Segments placed in order, each aligned to its size; and the space they use."""
    segs: list[Seg] = []
    offset = 0
    for seg in spec.segments:
        prefix = seg.prefix if seg.prefix is not None else 32
        size = 1 << (32 - prefix)
        offset = -(-offset // size) * size
        segs.append(Seg(seg.name, seg.vlan, offset, prefix))
        offset += size
    return segs, offset


def _carve_problems(spec: IpPlanSpec, site_prefix: int) -> list[str]:
    _, used = _carve(spec)
    block = 1 << (32 - site_prefix)
    if used <= block:
        return []
    largest_first = spec.model_copy(update={"segments": tuple(sorted(spec.segments, key=lambda s: s.prefix or 32))})
    if _carve(largest_first)[1] <= block:
        fix = "list the segments largest first (each is aligned to its size, in the order written)"
    else:
        fix = f"set site_prefix to {32 - (used - 1).bit_length()} or use smaller segments"
    return [f"the segments need {used} addresses but a /{site_prefix} site block holds {block}: {fix}"]


def _octet_offsets(spec: IpPlanSpec) -> list[int | None]:
    defaults = list(_OCTET_OFFSETS) + [None] * len(spec.segments)
    return [s.octet_offset if s.octet_offset is not None else defaults[i] for i, s in enumerate(spec.segments)]


def _octet_problems(spec: IpPlanSpec) -> list[str]:
    problems: list[str] = []
    if spec.supernet.prefixlen != 8:
        problems.append(f"the octet scheme needs a /8 supernet (such as 10.0.0.0/8), not {spec.supernet}")
    for seg, offset in zip(spec.segments, _octet_offsets(spec), strict=True):
        if seg.prefix not in (None, 24):
            problems.append(f"segment '{seg.name}': the octet scheme makes every segment a /24; drop prefix")
        if offset is None:
            problems.append(f"segment '{seg.name}': set octet_offset (defaults exist for 4 segments only)")
        elif not 0 <= offset <= 254:
            problems.append(f"segment '{seg.name}': octet_offset {offset} must be 0..254")
    if not problems and _octet_zone_count(spec) < 1:
        problems.append("octet_offset values must differ by at least 1 so zones get distinct octets")
    return problems


def _octet_zone_count(spec: IpPlanSpec) -> int:
    offsets = sorted({o for o in _octet_offsets(spec) if o is not None})
    if len(offsets) < len(spec.segments):
        return 0
    gaps = [b - a for a, b in zip(offsets, offsets[1:], strict=False)]
    return min([255 - offsets[-1], *gaps])


# Compiled layouts by spec identity. The entry keeps the spec alive, so its id cannot be reused while
# cached; a private attribute on the pydantic model would cost more than planning a site.
_LAYOUTS: dict[int, tuple[IpPlanSpec, Layout]] = {}
_LAYOUTS_MAX = 32


def compile_layout(spec: IpPlanSpec) -> Layout:
    """The spec as integers (cached per spec); raises `PlanError` when the spec is unusable."""
    entry = _LAYOUTS.get(id(spec))
    if entry is not None and entry[0] is spec:
        return entry[1]
    problems = layout_problems(spec)
    if problems:
        raise PlanError("ip_plan: " + "; ".join(problems))
    layout = _octet_layout(spec) if spec.scheme == "octet" else _hierarchical_layout(spec)
    if len(_LAYOUTS) >= _LAYOUTS_MAX:
        _LAYOUTS.pop(next(iter(_LAYOUTS)))
    _LAYOUTS[id(spec)] = (spec, layout)
    return layout


def _reserved(spec: IpPlanSpec) -> tuple[tuple[int, int, IPv4Network], ...]:
    return tuple((int(r.network_address), int(r.broadcast_address), r) for r in spec.reserved)


def _hierarchical_layout(spec: IpPlanSpec) -> Layout:
    assert spec.zone_prefix is not None and spec.site_prefix is not None  # layout_problems checked
    segs, _ = _carve(spec)
    return Layout(
        scheme="hierarchical",
        base=int(spec.supernet.network_address),
        zone_size=1 << (32 - spec.zone_prefix),
        zone_count=1 << (spec.zone_prefix - spec.supernet.prefixlen),
        block_size=1 << (32 - spec.site_prefix),
        block_prefix=spec.site_prefix,
        capacity=1 << (spec.site_prefix - spec.zone_prefix),
        segs=tuple(segs),
        reserved=_reserved(spec),
    )


def _octet_layout(spec: IpPlanSpec) -> Layout:
    offsets = [o if o is not None else 0 for o in _octet_offsets(spec)]
    segs = tuple(Seg(s.name, s.vlan, o, 24) for s, o in zip(spec.segments, offsets, strict=True))
    return Layout(
        scheme="octet",
        base=int(spec.supernet.network_address),
        zone_size=0,
        zone_count=_octet_zone_count(spec),
        block_size=256,
        block_prefix=24,
        capacity=255,
        segs=segs,
        reserved=_reserved(spec),
    )


def check_place(layout: Layout, zone_id: int, number: int) -> str | None:
    """Why a (zone, number) has no place in the plan, or None when it has one."""
    if not 1 <= zone_id <= layout.zone_count:
        return f"zone {zone_id} is outside the plan: the {layout.scheme} plan has zones 1..{layout.zone_count}"
    if not 1 <= number <= layout.capacity:
        return (
            f"number {number} is past the zone's capacity: a zone holds site numbers 1..{layout.capacity}"
            " (use another zone, or lower zone_prefix / raise site_prefix for more sites per zone)"
        )
    return None


def reserved_hits(layout: Layout, zone_id: int, number: int) -> list[IPv4Network]:
    """The reserved ranges a site's addresses would overlap."""
    if not layout.reserved:
        return []
    ranges = layout.site_ranges(zone_id, number)
    return [net for lo, hi, net in layout.reserved if any(a <= hi and lo <= b for a, b in ranges)]
