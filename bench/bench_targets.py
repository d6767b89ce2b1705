"""Benchmark of targeted plans and `plan --detail` (in-process twin, memory store): prints figures.

    .venv/bin/python bench/bench_targets.py [--sites 1000]

Figures: choosing a target (`domain/targets.select`) on a fleet of N sites; a whole plan against an empty
org vs targeted ones (seconds, read calls, writes planned); rendering `--detail` for the whole plan.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.engine import EXAMPLE, engine  # noqa: E402
from tests.support.twin import twin_app  # noqa: E402

from mistctl.cli.plan_detail import detail_lines, fingerprinter, live_lookup  # noqa: E402
from mistctl.domain.parse import parse_fleet  # noqa: E402
from mistctl.domain.targets import select  # noqa: E402
from mistctl.workflow import deploy  # noqa: E402

TARGETS: list[tuple[str, list[str], list[str]]] = [
    ("whole fleet", [], []),
    ("--kind wlan", [], ["wlan"]),
    ("--site S1*", ["S1*"], []),
    ("--site S7 --kind site", ["S7"], ["site"]),
]


def _fleet(sites: int) -> str:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["sites"] = [{"name": f"S{n}", "zone": 1 + n % 3, "number": 1 + n // 3, "vars": {"store_code": f"C{n}"}}
                     for n in range(sites)]
    return yaml.safe_dump(data, sort_keys=False)


async def _plans(sites: int) -> None:
    fleet = parse_fleet(_fleet(sites), source="bench.yaml")
    for label, pattern, kinds in TARGETS:
        started = time.perf_counter()
        for _ in range(5):
            select(fleet, pattern, kinds)
        print(f"select {label:<24} {(time.perf_counter() - started) / 5 * 1000:8.2f} ms")
    app = twin_app()
    async with engine(app) as svc:
        await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)  # warm-up: imports, first calls
        for label, pattern, kinds in TARGETS:
            target = select(fleet, pattern, kinds)
            before = svc.ledger.total
            started = time.perf_counter()
            planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, target=target)
            took = time.perf_counter() - started
            print(f"plan {label:<26} {took:6.2f} s, {svc.ledger.total - before:4d} read calls, "
                  f"{planned.plan.estimated_calls:6d} writes planned")
            if target is None:
                whole = planned
        fp, live = fingerprinter(svc.org_id), live_lookup(whole.live.objects)
        started = time.perf_counter()
        lines = detail_lines(whole.plan, fp, live)
        print(f"--detail of the whole plan: {len(lines)} lines in {time.perf_counter() - started:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=1000)
    args = parser.parse_args()
    print(f"fleet: the example's org objects and {args.sites} sites")
    asyncio.run(_plans(args.sites))


if __name__ == "__main__":
    main()
