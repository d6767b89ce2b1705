"""Run every benchmark in turn and keep its output under bench/results/ (what `make bench` does).

    .venv/bin/python bench/run_all.py [--only apply,twin] [--quick]

`--quick` passes smaller sizes where a benchmark takes them (a smoke run, not the README figures).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK_ARGS: dict[str, list[str]] = {
    "apply": ["--sites", "100", "--naive-sites", "20"],
    "workers": ["--sites", "200"],
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="comma-separated names, e.g. apply,twin")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    wanted = {n for n in args.only.split(",") if n}
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        extra = QUICK_ARGS.get(name, []) if args.quick else []
        print(f"== {name} {' '.join(extra)}", flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(script), *extra], capture_output=True, text=True, check=False)
        (out_dir / f"{name}.txt").write_text(done.stdout + done.stderr)
        print(done.stdout.rstrip())
        if done.returncode != 0:
            failed += 1
            print(f"   FAILED (exit {done.returncode}): {done.stderr.strip()[-500:]}")
        print(f"   ({time.perf_counter() - start:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
