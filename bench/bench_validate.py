"""How long `mistctl --help` and `mistctl validate` take: process start included (the issue #16 targets), the
example fleet in process, 10,000 generated sites (`validate` and `ipam` as processes, with their peak
memory), and the refusal of the 839-byte alias bomb (tests/fixtures/hostile).

Run: `.venv/bin/python bench/bench_validate.py [--compare-src /work/wt/base/src] [--runs 9] [--sites 10000]`

Figures are CPU seconds (user + system, from the child's rusage): the machine may be shared, and CPU time
is what a busy neighbour inflates least. A command's figure is the best of `--runs` runs (the least
disturbed one), its median beside it. With `--compare-src` every command also runs with that checkout's
`src` (e.g. main's), the two alternated so they share the machine's noise, and both are printed side by side.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.workers import fleet_data, write_fleet  # noqa: E402

from mistctl.domain.errors import FleetInvalid  # noqa: E402
from mistctl.domain.parse import parse_fleet  # noqa: E402
from mistctl.fleetio import load_fleet  # noqa: E402

EXAMPLE = REPO / "examples" / "fleet.yaml"
BOMB = REPO / "tests" / "fixtures" / "hostile" / "alias_bomb.yaml"
GOAL_START_S = 0.25  # `--help` and `validate examples/fleet.yaml`, CPU, process start included
GOAL_10K_S = 5.0  # offline validation of 10,000 sites
GOAL_MEMORY_MB = 500.0


@dataclass
class Run:
    """One process run: CPU s, peak RSS MB, exit code, wall s."""

    cpu: float
    peak_mb: float
    exit: int
    wall: float


def run_process(src: Path, args: list[str]) -> Run:
    """`python -m mistctl ARGS` with `src` first on the path, to its end."""
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "100"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mistctl", *args], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    return Run(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), wall)


def measure(srcs: list[tuple[str, Path]], args: list[str], runs: int) -> dict[str, list[Run]]:
    """Each src's runs of one command, the srcs alternated."""
    out: dict[str, list[Run]] = {label: [] for label, _ in srcs}
    for _ in range(runs):
        for label, src in srcs:
            out[label].append(run_process(src, args))
    return out


def _cpu() -> float:
    return time.process_time()


def _median_ms(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = _cpu()
        fn()
        times.append(_cpu() - started)
    return statistics.median(times) * 1000


def _refused(text: str) -> None:
    try:
        parse_fleet(text, source="bomb.yaml")
    except FleetInvalid:
        return
    raise SystemExit("the bomb was not refused")


def _line(label: str, results: dict[str, list[Run]], goal: str, memory: bool = False) -> None:
    cells = []
    for name, runs in results.items():
        cpus = sorted(r.cpu for r in runs)
        cell = f"{name} {cpus[0]:6.3f} s (median {statistics.median(cpus):6.3f})"
        if memory:
            cell += f" wall {min(r.wall for r in runs):5.2f} s peak {max(r.peak_mb for r in runs):4.0f} MB"
        if any(r.exit for r in runs):
            cell += f" EXIT {sorted({r.exit for r in runs})}"
        cells.append(cell)
    print(f"{label:<40} {'   '.join(cells)}   goal {goal}")


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--compare-src", type=Path, help="also run each command with this src (e.g. main's)")
    ap.add_argument("--runs", type=int, default=9, help="runs per start-up command (the best is the figure)")
    ap.add_argument("--sites", type=int, default=10_000, help="sites of the generated fleet")
    args = ap.parse_args()
    srcs = [("this", REPO / "src")] + ([("compare", args.compare_src)] if args.compare_src else [])
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"Start-up and validation, CPU seconds of the mistctl process ({os.cpu_count()} cores, load {load}); "
          f"best of runs, srcs: {', '.join(f'{n}={s}' for n, s in srcs)}")
    _line("`mistctl --help`", measure(srcs, ["--help"], args.runs), f"<= {GOAL_START_S} s")
    _line("`mistctl validate examples/fleet.yaml`", measure(srcs, ["validate", str(EXAMPLE)], args.runs),
          f"<= {GOAL_START_S} s")
    codes = [f"BENCH{i:010d}" for i in range(args.sites)]  # 15 letters/digits, as claim codes are
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as folder:
        big = write_fleet(Path(folder) / "fleet.yaml", fleet_data(args.sites, codes, "S", zones=8))
        for command in ("validate", "ipam"):
            _line(f"`mistctl {command}` of {args.sites:,} sites", measure(srcs, [command, str(big)], 2),
                  f"<= {GOAL_10K_S:.0f} s, peak <= {GOAL_MEMORY_MB:.0f} MB", memory=True)
        started = _cpu()
        load_fleet(EXAMPLE)  # first use: imports, schemas
        rows = [("first load_fleet in a process (imports)", (_cpu() - started) * 1000)]
        rows += [("load_fleet(examples/fleet.yaml)", _median_ms(lambda: load_fleet(EXAMPLE), 30))]
        rows.append((f"load_fleet of {args.sites:,} sites in process", _median_ms(lambda: load_fleet(big), 3)))
    bomb = BOMB.read_text()
    rows.append(("the 839-byte alias bomb refused", _median_ms(lambda: _refused(bomb), 30)))
    print("In this process (this src), median CPU:")
    for label, ms in rows:
        print(f"  {label:<46} {ms:9.1f} ms")


if __name__ == "__main__":
    main()
