"""How long `mistctl --help` and `mistctl validate` take: process start included (the issue #16 targets), the
example fleet in process, 10,000 generated sites (`validate` and `ipam` as processes, with their peak
memory), and the refusal of the 839-byte alias bomb (tests/fixtures/hostile).

Run: `.venv/bin/python bench/bench_validate.py [--compare-src /work/wt/base/src] [--runs 9] [--sites 10000]
[--only-start] [--no-pyc]`

Figures are CPU seconds (user + system, from the child's rusage): the machine may be shared, and CPU time
is what a busy neighbour inflates least. A command's figure is the best of `--runs` runs (the least
disturbed one), its median beside it. With `--compare-src` every command also runs with that checkout's
`src` (e.g. main's), the two alternated so they share the machine's noise, and both are printed side by side.

The processes read compiled bytecode, as an installed mistctl does (pip compiles it at install): the children
keep it under a temporary PYTHONPYCACHEPREFIX, filled by one run of each command that is not counted, whatever
PYTHONDONTWRITEBYTECODE says. `--no-pyc` measures the other case: every source compiled at every start.

The floor: what the libraries mistctl is built on cost on their own, each a process of its own (bare python,
`import typer`, Rich's console, PyYAML, pydantic with one model, the four together, and the three without Rich:
the least a `validate` on these libraries can cost, as it imports no Rich off a terminal), and a plain
one-command Typer app on them that reads the fleet's YAML into pydantic models and prints with Rich (what the
libraries cost used the usual way, without mistctl's start-up work).
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

from tests.support.bytecode import bytecode_env  # noqa: E402
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


#: The children's environment beyond PYTHONPATH (bytecode: see the module docstring; set by `main`).
CHILD_ENV: dict[str, str] = {}

#: A one-command Typer app on the same libraries: a YAML file read into a pydantic model, printed with Rich.
FLOOR_APP = """
import typer, yaml, pydantic
from pathlib import Path
from rich.console import Console
class Site(pydantic.BaseModel):
    name: str
    zone: int | None = None
class Fleet(pydantic.BaseModel):
    sites: list[Site] = []
app = typer.Typer(pretty_exceptions_enable=False)
@app.command()
def validate(fleet: Path = typer.Argument(...)) -> None:
    raw = yaml.safe_load(fleet.read_text())
    sites = [Site.model_validate({"name": s["name"], "zone": s.get("zone")}) for s in raw["sites"]
             if "name" in s]
    Console().print(f"fleet OK: {len(Fleet(sites=sites).sites)} sites")
app()
"""
FLOORS: list[tuple[str, list[str]]] = [
    ("bare python (`python -c pass`)", ["-c", "pass"]),
    ("`import typer`", ["-c", "import typer"]),
    ("`import rich.console`", ["-c", "import rich.console"]),
    ("`import yaml`", ["-c", "import yaml"]),
    ("`import pydantic` + one model", ["-c", "import pydantic\nclass M(pydantic.BaseModel):\n    a: int\nM(a=1)"]),
    ("all four imported, one model", ["-c", "import typer, rich.console, yaml, pydantic\n"
                                      "class M(pydantic.BaseModel):\n    a: int\nM(a=1)"]),
    ("the three but Rich, one model", ["-c", "import typer, yaml, pydantic\n"
                                       "class M(pydantic.BaseModel):\n    a: int\nM(a=1)"]),
    ("a plain Typer app on them reading the fleet", ["-c", FLOOR_APP, str(EXAMPLE)]),
]


def child_env(src: Path | None, no_pyc: bool, cache: Path) -> dict[str, str]:
    """The children's environment: `src` first on the path; bytecode kept under `cache` unless `no_pyc`."""
    env = bytecode_env({**os.environ, "COLUMNS": "100"}, None if no_pyc else cache)
    if src is None:  # the floor: pydantic's plugins off, as `mistctl` sets them
        env.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    else:
        env["PYTHONPATH"] = str(src)
    return env


def run_process(src: Path | None, args: list[str]) -> Run:
    """`python -m mistctl ARGS` with `src` first on the path, to its end; with `src` None, `python ARGS`."""
    env = child_env(src, CHILD_ENV.get("no_pyc") == "1", Path(CHILD_ENV["cache"]))
    command = [sys.executable, *args] if src is None else [sys.executable, "-m", "mistctl", *args]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    return Run(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), wall)


def measure(srcs: list[tuple[str, Path | None]], args: list[str], runs: int, warm: bool = True
            ) -> dict[str, list[Run]]:
    """Each src's runs of one command, the srcs alternated (after one uncounted run each when `warm`: the
    bytecode is written then)."""
    out: dict[str, list[Run]] = {label: [] for label, _ in srcs}
    for _, src in srcs if warm else ():
        run_process(src, args)
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
    print(f"{label:<42} {'   '.join(cells)}" + (f"   goal {goal}" if goal else ""))


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--compare-src", type=Path, help="also run each command with this src (e.g. main's)")
    ap.add_argument("--runs", type=int, default=9, help="runs per start-up command (the best is the figure)")
    ap.add_argument("--sites", type=int, default=10_000, help="sites of the generated fleet")
    ap.add_argument("--only-start", action="store_true", help="only `--help`, `validate` and the floor")
    ap.add_argument("--no-pyc", action="store_true", help="no bytecode: every source compiled at every start")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-validate-pyc-") as cache:
        CHILD_ENV.update(cache=cache, no_pyc="1" if args.no_pyc else "")
        start_up(args)
        if not args.only_start:
            big_fleets(args)


def start_up(args: argparse.Namespace) -> None:
    """`--help`, `validate` and the libraries' floor, as processes."""
    srcs: list[tuple[str, Path | None]] = [("this", REPO / "src")]
    srcs += [("compare", args.compare_src)] if args.compare_src else []
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"Start-up and validation, CPU seconds of the mistctl process ({os.cpu_count()} cores, load {load}); "
          f"best of runs, {'no bytecode' if args.no_pyc else 'compiled bytecode'}, "
          f"srcs: {', '.join(f'{n}={s}' for n, s in srcs)}")
    _line("`mistctl --help`", measure(srcs, ["--help"], args.runs), f"<= {GOAL_START_S} s")
    _line("`mistctl validate examples/fleet.yaml`", measure(srcs, ["validate", str(EXAMPLE)], args.runs),
          f"<= {GOAL_START_S} s")
    _line("`mistctl apply --help`", measure(srcs, ["apply", "--help"], args.runs), "(no goal)")
    print("The floor: the libraries alone, each a process (no mistctl):")
    for label, code in FLOORS:
        _line(f"  {label}", measure([("floor", None)], code, args.runs), "")


def big_fleets(args: argparse.Namespace) -> None:
    """10,000 sites as processes, and the example in this process."""
    srcs: list[tuple[str, Path | None]] = [("this", REPO / "src")]
    srcs += [("compare", args.compare_src)] if args.compare_src else []
    codes = [f"BENCH{i:010d}" for i in range(args.sites)]  # 15 letters/digits, as claim codes are
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as folder:
        big = write_fleet(Path(folder) / "fleet.yaml", fleet_data(args.sites, codes, "S", zones=8))
        for command in ("validate", "ipam"):
            _line(f"`mistctl {command}` of {args.sites:,} sites", measure(srcs, [command, str(big)], 2, warm=False),
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
