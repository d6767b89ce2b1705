"""Benchmark: how `mistctl validate`, `ipam`, `apply` and `plan` scale with the fleet (100, 1,000, 10,000 sites).

Each command runs as its own process (as a user runs it); the twin runs in another process over HTTP with a
small latency (default 2 ms), a fresh one per fleet size. The fleet is the example's org design with N
generated stores over the example plan's eight zones, one device each (tests/support/workers.fleet_data).
`apply --yes` provisions the empty org; `plan` then runs against the org that already has everything.
Printed side by side: wall, CPU (user + system of the mistctl process), its peak memory (ru_maxrss), the
Mist calls it made (the twin's counters) and the twin's CPU meanwhile (from /proc: the twin is not what
is measured); then the goals beside the 10,000-site figures.

    .venv/bin/python bench/bench_scale.py [--sizes 100 1000] [--latency-ms 2] [--full]

Without `--full` the 10,000-site fleet is only validated and planned offline (validate, ipam): its apply
takes minutes. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.twin import process_cpu, running_twin_process  # noqa: E402
from tests.support.workers import CLI, claim_codes, fleet_data, mistctl_env, write_fleet  # noqa: E402

from mist_twin.config import TwinConfig  # noqa: E402

ZONES = 8
GOAL_MEMORY_MB = 500.0
GOAL_VALIDATE_S = 5.0


@dataclass
class Figures:
    """One command on one fleet."""

    command: str
    sites: int
    wall: float
    cpu: float
    peak_mb: float
    calls: int | None
    exit: int
    twin_cpu: float = 0.0


def run_measured(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float, int]:
    """Run a mistctl command to its end: wall s, CPU s (user + system), peak RSS MB, exit code."""
    with (cwd / "out.txt").open("w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen([*CLI, *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def twin_calls(url: str) -> int:
    return int(httpx.get(f"{url}/__twin/counters", timeout=60).json()["total"])


def one_size(sites: int, args: argparse.Namespace, tmp: Path) -> list[Figures]:
    online = args.full or sites < 10_000
    config = TwinConfig(latency_ms=args.latency_ms, rate_limit=10_000_000, device_count=sites + 10)
    results: list[Figures] = []
    with running_twin_process(config, timeout=60) as (url, org_id, token, twin_pid):
        folder = tmp / str(sites)
        folder.mkdir()
        fleet = write_fleet(folder / "fleet.yaml", fleet_data(sites, claim_codes(url, sites), "S", zones=ZONES))
        env = mistctl_env(url, token, org_id, f"sqlite:///{folder / 'state.db'}", MIST_RATE_LIMIT="10000000",
                          MIST_READ_TIMEOUT="300")
        steps = [["validate", str(fleet)], ["ipam", str(fleet)]]
        if online:
            steps += [["apply", str(fleet), "--yes"], ["plan", str(fleet)]]
        for step in steps:
            before, twin_before = twin_calls(url), process_cpu(twin_pid)
            wall, cpu, peak, code = run_measured(step, env, folder)
            twin_cpu = process_cpu(twin_pid) - twin_before
            calls = twin_calls(url) - before if step[0] in ("apply", "plan") else None
            results.append(Figures(step[0], sites, wall, cpu, peak, calls, code, twin_cpu))
            print(f"  measured: {results[-1]}", file=sys.stderr, flush=True)  # a long run's rows as they come
            if code != 0:
                print(f"  {step[0]} of {sites} sites exited {code}:\n"
                      f"{(folder / 'out.txt').read_text()[-1500:]}", file=sys.stderr)
    return results


def report(results: list[Figures], args: argparse.Namespace) -> None:
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"Scaling: each command a process; twin over HTTP with {args.latency_ms:g} ms latency; "
          f"{os.cpu_count()} cores, load before {args.load}, after {load}")
    header = ("command", "sites", "wall s", "CPU s", "ms CPU/site", "peak MB", "calls", "calls/site", "twin CPU s",
              "exit")
    rows = [header]
    for r in results:
        calls = "-" if r.calls is None else str(r.calls)
        per = "-" if r.calls is None else f"{r.calls / r.sites:.2f}"
        rows.append((r.command, f"{r.sites:,}", f"{r.wall:.2f}", f"{r.cpu:.2f}", f"{1000 * r.cpu / r.sites:.2f}",
                     f"{r.peak_mb:.0f}", calls, per, f"{r.twin_cpu:.2f}", str(r.exit)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    biggest = max(r.sites for r in results)
    print(f"goals at {biggest:,} sites:")
    for r in (r for r in results if r.sites == biggest):
        line = f"  {r.command:<9} peak {r.peak_mb:6.0f} MB (goal <= {GOAL_MEMORY_MB:.0f})"
        if r.command in ("validate", "ipam"):  # offline validation (ipam validates first)
            line += f"   wall {r.wall:5.2f} s, CPU {r.cpu:5.2f} s (goal <= {GOAL_VALIDATE_S:.0f} s)"
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000])
    ap.add_argument("--latency-ms", type=float, default=2)
    ap.add_argument("--full", action="store_true", help="apply and plan the 10,000-site fleet too")
    args = ap.parse_args()
    args.load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        results = [f for n in args.sizes for f in one_size(n, args, Path(tmp))]
    report(results, args)


if __name__ == "__main__":
    main()
