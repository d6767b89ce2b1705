"""The address plan as a picture's data: zones, their site blocks grouped into cells, coloured by use.

Pure: built from the design's `IpPlanSpec`, its zones and the (zone, number) of every recorded site.
A block is *allocated* when a site with that zone and number exists, *reserved* when it overlaps one
of the plan's reserved ranges (and no site holds it), *free* otherwise. A zone can hold thousands of
blocks (a /11 of /22s holds 2,048), so blocks are aggregated into at most `MAX_CELLS` cells per zone;
a cell counts how many of its blocks are in each state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mistctl.domain.fleet import IpPlanSpec, Zone
from mistctl.domain.ipplan import Layout, compile_layout, dotted, reserved_hits

MAX_CELLS = 128  # cells per zone row: 2 rows of 64 on a laptop screen
ALL_ZONES_UP_TO = 16  # plans with more zones show only the designed and used ones
OUTSIDE_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Cell:
    """Consecutive site numbers first..last of one zone, and how many are allocated or reserved."""

    first: int
    last: int
    allocated: int
    reserved: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    @property
    def free(self) -> int:
        return self.size - self.allocated - self.reserved

    @property
    def state(self) -> str:
        """`free`, `alloc1`..`alloc3` (a third, two thirds, more allocated), `reserved` or `res-part`."""
        if self.allocated:
            return f"alloc{min(3, math.ceil(3 * self.allocated / self.size))}"
        if self.reserved:
            return "reserved" if self.reserved == self.size else "res-part"
        return "free"


@dataclass(frozen=True)
class ZoneUse:
    """One zone of the plan: where it lives, its capacity and use, and its cells."""

    id: int
    name: str | None  # None: the plan has room for the zone but the design does not name it
    where: str  # the zone's prefix (hierarchical) or its segments' /16s (octet)
    spans: tuple[tuple[int, int], ...]  # [first, last] addresses the zone covers
    capacity: int
    allocated: int
    reserved: int
    cells: tuple[Cell, ...]

    @property
    def free(self) -> int:
        """Capacity left: blocks neither allocated nor reserved."""
        return self.capacity - self.allocated - self.reserved


@dataclass(frozen=True)
class IpamModel:
    """The whole plan: supernet, scheme, the zones shown, and sites that have no place in it."""

    scheme: str
    supernet: str
    supernet_span: tuple[int, int]
    zone_prefix: int | None
    block_prefix: int
    capacity: int
    zone_count: int
    blocks_per_cell: int
    zones: tuple[ZoneUse, ...]
    reserved: tuple[tuple[str, int, int], ...]  # (cidr, first, last)
    outside: tuple[str, ...]  # sites whose zone/number the plan cannot place (first few)
    outside_count: int

    @property
    def hidden_zones(self) -> int:
        """Zones of the plan not drawn (neither designed nor used)."""
        return self.zone_count - len(self.zones)

    @property
    def allocated(self) -> int:
        return sum(z.allocated for z in self.zones)

    def cell_addresses(self, zone: ZoneUse, cell: Cell) -> str:
        """The addresses a cell's blocks cover (hierarchical), e.g. 10.0.0.0-10.0.63.255; octet: ''."""
        if self.scheme == "octet":
            return ""
        size = 1 << (32 - self.block_prefix)
        start = zone.spans[0][0] + (cell.first - 1) * size
        return f"{dotted(start)}-{dotted(start + cell.size * size - 1)}"


Placement = tuple[str, int | None, int | None]  # (site name, zone id, site number)


def ipam_model(spec: IpPlanSpec, zones: Sequence[Zone], sites: Iterable[Placement]) -> IpamModel:
    """The picture's data for a plan, its designed zones and the recorded sites' places."""
    layout = compile_layout(spec)
    used: dict[int, set[int]] = {}
    outside: list[str] = []
    for name, zone_id, number in sites:
        if zone_id is None or number is None:
            continue
        if 1 <= zone_id <= layout.zone_count and 1 <= number <= layout.capacity:
            used.setdefault(zone_id, set()).add(number)
        else:
            outside.append(name)
    names = {z.id: z.name for z in zones}
    bpc = max(1, math.ceil(layout.capacity / MAX_CELLS))
    rows = tuple(_zone_use(layout, z, names.get(z), used.get(z, set()), bpc)
                 for z in _shown(layout, names, used))
    net = spec.supernet
    return IpamModel(
        scheme=layout.scheme, supernet=str(net),
        supernet_span=(int(net.network_address), int(net.broadcast_address)),
        zone_prefix=spec.zone_prefix if layout.scheme == "hierarchical" else None,
        block_prefix=layout.block_prefix, capacity=layout.capacity, zone_count=layout.zone_count,
        blocks_per_cell=bpc, zones=rows, reserved=tuple((str(n), lo, hi) for lo, hi, n in layout.reserved),
        outside=tuple(sorted(outside)[:OUTSIDE_SHOWN]), outside_count=len(outside),
    )


def _shown(layout: Layout, names: dict[int, str], used: dict[int, set[int]]) -> list[int]:
    if layout.zone_count <= ALL_ZONES_UP_TO:
        return list(range(1, layout.zone_count + 1))
    return sorted({z for z in names if 1 <= z <= layout.zone_count} | set(used))


def _zone_use(layout: Layout, zone_id: int, name: str | None, numbers: set[int], bpc: int) -> ZoneUse:
    reserved = _merge(_reserved_numbers(layout, zone_id))
    clash = {n for n in numbers if _inside(n, reserved)}  # a site on a reserved block counts as allocated
    per_cell = [0] * math.ceil(layout.capacity / bpc)
    for n in numbers:
        per_cell[(n - 1) // bpc] += 1
    cells = []
    for index, first in enumerate(range(1, layout.capacity + 1, bpc)):
        last = min(layout.capacity, first + bpc - 1)
        overlap = sum(max(0, min(hi, last) - max(lo, first) + 1) for lo, hi in reserved)
        overlap -= sum(1 for n in clash if first <= n <= last)
        cells.append(Cell(first, last, per_cell[index], overlap))
    spans = _zone_spans(layout, zone_id)
    return ZoneUse(id=zone_id, name=name, where=_where(layout, spans), spans=spans, capacity=layout.capacity,
                   allocated=len(numbers), reserved=sum(c.reserved for c in cells), cells=tuple(cells))


def _reserved_numbers(layout: Layout, zone_id: int) -> list[tuple[int, int]]:
    """The site numbers of a zone whose addresses overlap a reserved range, as [first, last] runs."""
    if not layout.reserved:
        return []
    if layout.scheme == "octet":  # at most 255 numbers: ask the plan about each
        return [(n, n) for n in range(1, layout.capacity + 1) if reserved_hits(layout, zone_id, n)]
    zone_base = layout.base + (zone_id - 1) * layout.zone_size
    zone_last = zone_base + layout.zone_size - 1
    runs = []
    for lo, hi, _net in layout.reserved:
        if hi < zone_base or lo > zone_last:
            continue
        first = (max(lo, zone_base) - zone_base) // layout.block_size + 1
        last = (min(hi, zone_last) - zone_base) // layout.block_size + 1
        runs.append((first, min(last, layout.capacity)))
    return runs


def _merge(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(runs):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _inside(number: int, runs: list[tuple[int, int]]) -> bool:
    return any(lo <= number <= hi for lo, hi in runs)


def _zone_spans(layout: Layout, zone_id: int) -> tuple[tuple[int, int], ...]:
    if layout.scheme == "octet":  # one /16 per segment: second octet = offset + zone id
        firsts = sorted({layout.base | (s.offset + zone_id) << 16 for s in layout.segs})
        return tuple((a, a + 0xFFFF) for a in firsts)
    start = layout.base + (zone_id - 1) * layout.zone_size
    return ((start, start + layout.zone_size - 1),)


def _where(layout: Layout, spans: tuple[tuple[int, int], ...]) -> str:
    if layout.scheme == "octet":
        return ", ".join(f"{dotted(a)}/16" for a, _ in spans)
    first, last = spans[0]
    return f"{dotted(first)}/{33 - (last - first + 1).bit_length()}"

