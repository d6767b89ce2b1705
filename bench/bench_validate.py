"""How long `mistctl validate` takes: the example fleet (in-process and as a command), a 6,000-site fleet
written inline, and the refusal of the 839-byte alias bomb (tests/fixtures/hostile).

Run: `.venv/bin/python bench/bench_validate.py` (medians of several runs, in CPU milliseconds: the
machine may be shared, and CPU time is what a busy neighbour does not inflate much).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from mistctl.domain.errors import FleetInvalid
from mistctl.domain.parse import parse_fleet
from mistctl.fleetio import load_fleet

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "fleet.yaml"
BOMB = REPO / "tests" / "fixtures" / "hostile" / "alias_bomb.yaml"


def _cpu() -> float:
    # CPU seconds of this process and its finished children: steadier than wall time on a shared machine.
    own = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + children.ru_utime + children.ru_stime


def _median_ms(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = _cpu()
        fn()
        times.append(_cpu() - started)
    return statistics.median(times) * 1000


def _big_fleet(sites: int) -> str:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["sites"] = [{"name": f"S{n}", "zone": 1 + n % 3, "number": 1 + n // 3, "vars": {"store_code": f"C{n}"}}
                     for n in range(sites)]
    return yaml.safe_dump(data, sort_keys=False)


def _refused(text: str) -> None:
    try:
        parse_fleet(text, source="bomb.yaml")
    except FleetInvalid:
        return
    raise SystemExit("the bomb was not refused")


def _command() -> None:
    subprocess.run([sys.executable, "-m", "mistctl", "validate", str(EXAMPLE)], check=True, capture_output=True)


def main() -> None:
    """Print the figures."""
    started = _cpu()
    load_fleet(EXAMPLE)  # first use: imports, schemas compiled
    rows = [("first load_fleet in a process (imports, compiling)", (_cpu() - started) * 1000)]
    rows += [("load_fleet(examples/fleet.yaml)", _median_ms(lambda: load_fleet(EXAMPLE), 30))]
    rows.append(("`mistctl validate examples/fleet.yaml` (process)", _median_ms(_command, 5)))
    big = _big_fleet(6_000)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fleet.yaml"
        path.write_text(big)
        rows.append(("load_fleet of 6,000 inline sites", _median_ms(lambda: load_fleet(path), 3)))
    bomb = BOMB.read_text()
    rows.append(("the 839-byte alias bomb refused", _median_ms(lambda: _refused(bomb), 30)))
    for label, ms in rows:
        sys.stdout.write(f"{label:<52} {ms:9.1f} ms CPU\n")


if __name__ == "__main__":
    main()
