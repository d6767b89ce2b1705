"""Benchmark: the IP plan of 100,000 sites (time and peak memory), and validating a 100,000-site fleet.

Run: .venv/bin/python bench/bench_ipplan.py [--sites N]
Prints figures; asserts nothing (benchmarks never gate tests).
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from mistctl.domain.fleet import Fleet, IpPlanSpec, Site, Zone
from mistctl.domain.ipplan import plan_site, site_variables
from mistctl.domain.validate import validate_fleet

SPEC = IpPlanSpec(
    supernet="10.0.0.0/8",
    zone_prefix=11,
    site_prefix=25,  # 100,000 sites need small blocks: a /8 holds 131,072 /25s
    segments=[
        {"name": "data", "vlan": 20, "prefix": 26},
        {"name": "mgmt", "vlan": 10, "prefix": 27},
        {"name": "voice", "vlan": 30, "prefix": 28},
        {"name": "guest", "vlan": 40, "prefix": 28},
    ],
    reserved=["10.255.0.0/16"],
)
ZONES = [Zone(id=z, name=f"zone-{z}") for z in range(1, 9)]


def _places(count: int) -> list[tuple[Zone, int]]:
    # 12,500 sites in each of the 8 zones; zone 8's numbers stop short of the reserved 10.255.0.0/16.
    per_zone = 12_500
    return [(ZONES[i // per_zone], i % per_zone + 1) for i in range(count)]


def _time(label: str, fn: Callable[[], Any], count: int) -> Any:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<46} {elapsed:7.2f} s  {elapsed / count * 1e6:6.1f} us/site")
    return result


def _peak(label: str, fn: Callable[[], Any]) -> None:
    # A separate, traced run: tracemalloc slows the code several times, so it never times anything.
    gc.collect()
    tracemalloc.start()
    kept = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    print(f"{label:<46} peak {peak / 2**20:7.1f} MiB (tracemalloc)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=100_000)
    count = parser.parse_args().sites
    places = _places(count)
    print(f"IP plan benchmark: {count:,} sites, hierarchical /8 -> /11 zones -> /25 sites, 4 segments")
    _time("plan_site", lambda: [plan_site(SPEC, z, n) for z, n in places], count)
    _time("plan_site + vars()", lambda: [plan_site(SPEC, z, n).vars() for z, n in places], count)
    sites = [Site(name=f"site-{i:06d}", zone=z.id, number=n) for i, (z, n) in enumerate(places)]
    fleet = Fleet(ip_plan=SPEC, zones=ZONES, sites=sites)
    _time("site_variables for every site of a fleet", lambda: [site_variables(fleet, s) for s in fleet.sites], count)
    issues = _time("validate_fleet (plan, zones, sites, org)", lambda: validate_fleet(fleet), count)
    print(f"validation issues: {len(issues)}")
    _peak("all SitePlan objects held", lambda: [plan_site(SPEC, z, n) for z, n in places])
    _peak("all sites' planned variables held", lambda: [plan_site(SPEC, z, n).vars() for z, n in places])


if __name__ == "__main__":
    main()
